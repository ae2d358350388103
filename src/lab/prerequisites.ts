import { access, constants } from 'node:fs/promises';
import { ConfigError } from '../errors.js';
import { PG_BIN_DIR } from './paths.js';

// What `lab up` needs on the control machine, checked all at once so the operator
// gets one message with one install line.

interface Requirement {
  what: string;
  paths: string[];
  /** Debian package that provides it. */
  pkg: string;
}

const REQUIREMENTS: Requirement[] = [
  { what: 'ip', paths: ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'], pkg: 'iproute2' },
  { what: 'nsenter', paths: ['/usr/bin/nsenter', '/bin/nsenter'], pkg: 'util-linux' },
  { what: 'unshare', paths: ['/usr/bin/unshare', '/bin/unshare'], pkg: 'util-linux' },
  { what: 'setpriv', paths: ['/usr/bin/setpriv', '/bin/setpriv'], pkg: 'util-linux' },
  { what: 'sshd', paths: ['/usr/sbin/sshd'], pkg: 'openssh-server' },
  { what: 'ssh and ssh-keygen', paths: ['/usr/bin/ssh-keygen'], pkg: 'openssh-client' },
  { what: 'PostgreSQL 15', paths: [`${PG_BIN_DIR}/initdb`, `${PG_BIN_DIR}/pg_basebackup`], pkg: 'postgresql-15' },
  { what: 'psql', paths: ['/usr/bin/psql', `${PG_BIN_DIR}/psql`], pkg: 'postgresql-client-15' },
  { what: 'memcached', paths: ['/usr/bin/memcached'], pkg: 'memcached' },
  { what: 'rsync', paths: ['/usr/bin/rsync'], pkg: 'rsync' },
  { what: 'sudo and visudo', paths: ['/usr/sbin/visudo'], pkg: 'sudo' },
  { what: 'useradd', paths: ['/usr/sbin/useradd'], pkg: 'passwd' },
  { what: 'arping', paths: ['/usr/bin/arping', '/usr/sbin/arping'], pkg: 'iputils-arping' },
];

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface PrerequisiteProbe {
  uid: number;
  platform: string;
  exists(path: string): Promise<boolean>;
}

const realProbe = (): PrerequisiteProbe => ({
  uid: typeof process.getuid === 'function' ? process.getuid() : -1,
  platform: process.platform,
  exists,
});

/** Throws one ConfigError naming everything missing (root, programs) and the apt-get line. */
export async function checkPrerequisites(probe: PrerequisiteProbe = realProbe()): Promise<void> {
  const problems: string[] = [];
  const notRoot = probe.uid !== 0;
  if (probe.platform !== 'linux') problems.push('a Linux control machine');
  if (notRoot) problems.push('root (network and mount namespaces)');
  const missing: Requirement[] = [];
  for (const requirement of REQUIREMENTS) {
    const found = await Promise.all(requirement.paths.map((path) => probe.exists(path)));
    if (!found.includes(true)) missing.push(requirement);
  }
  if (problems.length === 0 && missing.length === 0) return;
  const packages = [...new Set(missing.map((r) => r.pkg))];
  const needs = [...problems, ...missing.map((r) => `${r.what} (${r.pkg})`)].join(', ');
  const hints: string[] = [];
  if (packages.length > 0) hints.push(`install them with: apt-get install -y ${packages.join(' ')}`);
  if (notRoot) hints.push('run `sudo mirrorctl lab up`');
  throw new ConfigError(`The lab needs ${needs}`, { hint: hints.join('; then ') });
}
