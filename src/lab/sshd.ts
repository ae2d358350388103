import { access, readFile, rm, writeFile } from 'node:fs/promises';
import { SHELL_ALIVE, nodeExecOk, runOk } from './exec.js';
import { writeHostFile } from './host-files.js';
import { writeLoginHomes } from './login-user.js';
import { HOST_LAB_DIR, hostPath, LAB_HOSTS, SSH_PORT, type LabHostName, type LabNames } from './paths.js';
import type { LabState } from './state.js';

// SSH in the lab, as on a production site: sshd on a non-default port refusing root
// logins; the operator (DIR/id_ed25519) and each host's root (files.sync runs rsync as
// root on the receiver, over ssh to the sender) log in as the unprivileged lab user,
// who has NOPASSWD sudo. known_hosts entries are `[address]:port`.

const SSH_DIR = `${HOST_LAB_DIR}/ssh`;
const SSHD_CONFIG = `${SSH_DIR}/sshd_config`;
const HOST_KEY = `${SSH_DIR}/ssh_host_ed25519_key`;
export const SSHD_LOG = `${HOST_LAB_DIR}/log/sshd.log`;

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

/** Generates an ed25519 key pair at `file` unless one is there; returns the public key line. */
async function ensureKey(file: string, comment: string): Promise<string> {
  if (!(await exists(file))) {
    await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
  }
  return (await readFile(`${file}.pub`, 'utf8')).trim();
}

function sshdConfig(address: string, host: string, user: string): string {
  return [
    `# sshd of lab host ${host} (mirrorctl lab)`,
    `ListenAddress ${address}:${SSH_PORT}`,
    `HostKey ${HOST_KEY}`,
    'PidFile /run/sshd.pid',
    'PermitRootLogin no',
    `AllowUsers ${user}`,
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'AuthorizedKeysFile .ssh/authorized_keys',
    '# Speed: no PAM session set-up, no reverse DNS lookups of clients (sudo still uses PAM).',
    'UsePAM no',
    'UseDNS no',
    '# Tests count connections in the log.',
    'LogLevel VERBOSE',
    '# MaxSessions stays at its default (10): mirrorctl must keep below it.',
    '# Parallel tests open many connections at once; the default 10:30:100 would drop some.',
    'MaxStartups 100:30:200',
    'PrintMotd no',
    'AcceptEnv LANG LC_*',
    'Subsystem sftp /usr/lib/openssh/sftp-server',
    '',
  ].join('\n');
}

/** Keys, known_hosts, authorized_keys and sshd_config for both hosts and the operator. */
export async function prepareSsh(names: LabNames, state: LabState): Promise<void> {
  const operatorKey = await ensureKey(names.identityFile, 'mirrorctl-lab-operator');
  const hostKeys = {} as Record<LabHostName, string>;
  const rootKeys = {} as Record<LabHostName, string>;
  await Promise.all(
    LAB_HOSTS.map(async (host) => {
      await writeHostFile(names, host, `${SSH_DIR}/.keep`, '');
      await writeHostFile(names, host, `${HOST_LAB_DIR}/log/.keep`, '');
      await writeHostFile(names, host, '/root/.ssh/.keep', '', 0o600);
      hostKeys[host] = await ensureKey(hostPath(names, host, HOST_KEY), `${host}-host`);
      rootKeys[host] = await ensureKey(hostPath(names, host, '/root/.ssh/id_ed25519'), `root@${host}`);
    }),
  );
  const knownHosts = LAB_HOSTS.map((host) => {
    const [type, key] = hostKeys[host].split(/\s+/);
    return `[${state.nodes[host].address}]:${SSH_PORT} ${type} ${key}`;
  }).join('\n') + '\n';
  await writeFile(names.knownHostsFile, knownHosts);
  await writeLoginHomes(names, [operatorKey, ...LAB_HOSTS.map((h) => rootKeys[h])].join('\n') + '\n');
  for (const host of LAB_HOSTS) {
    await rm(hostPath(names, host, '/root/.ssh/authorized_keys'), { force: true });
    await writeHostFile(names, host, '/root/.ssh/known_hosts', knownHosts, 0o644);
    await writeHostFile(names, host, '/root/.ssh/config', 'Host *\n  BatchMode yes\n  StrictHostKeyChecking yes\n  ConnectTimeout 5\n', 0o600);
    await writeHostFile(names, host, SSHD_CONFIG, sshdConfig(state.nodes[host].address, host, names.user));
  }
}

/** Starts the host's sshd unless it runs; returns its pid. */
export async function ensureSshd(names: LabNames, host: LabHostName): Promise<number> {
  const result = await nodeExecOk(names, host, [
    SHELL_ALIVE,
    'if ! alive /run/sshd.pid; then',
    '  install -d -m 0755 /run/sshd',
    `  /usr/sbin/sshd -f ${SSHD_CONFIG} -E ${SSHD_LOG}`,
    // The daemon writes its pid file just after the parent returns.
    '  i=0; while [ ! -s /run/sshd.pid ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done',
    'fi',
    'cat /run/sshd.pid',
  ].join('\n'));
  return Number(result.stdout.trim());
}
