// The inventory init will write, as data: each value with where it came from, or a
// placeholder naming what to give. Pure: answers and host facts in, draft out.
import { quote } from '../transports/quote.js';
import type { HostFacts } from './discover-host.js';
import type { PostgresFacts } from './discover-postgres.js';
import type { Answers } from './options.js';

/** A value and a short note on where it came from, or a placeholder saying what is missing. */
export type Slot<T> = { value: T; note?: string } | { missing: string; example: string };

export interface Draft {
  site: Slot<string>;
  ssh: { user?: string; port?: number; identity_file?: string; known_hosts?: string; sudo: Slot<boolean> };
  hosts: Array<{ name: string; address: string; interface: Slot<string> }>;
  portableIp: Slot<string>;
  database: {
    hosts: string[];
    port: Slot<number>;
    passwordEnv: Slot<string> | { none: string };
    replicationUser: Slot<string> | null;
    binDir: Slot<string>;
    dataDir: Slot<string>;
    configFile: string | null;
    start: Slot<string>;
    stop: Slot<string>;
  };
  memcached: Slot<string[]>;
  sessions: { file: Slot<string>; key: Slot<string>; readOnly: Slot<string>; readWrite: Slot<string>; reload: string | null };
  files: Slot<string[]>;
  http: Slot<string>;
  /** Said on stderr whatever else happens: a split site, a server found on one host only. */
  warnings: string[];
  /** Which host runs the database primary, when exactly one does. */
  primary: string | null;
}

const missing = (what: string, example: string) => ({ missing: what, example });

/** Builds the draft from the answers and what both hosts said. */
export function buildDraft(answers: Answers, facts: HostFacts[]): Draft {
  const warnings: string[] = [];
  const servers = facts.map((f) => ({ host: f.name, pg: 'facts' in f.postgres ? f.postgres.facts : null, problem: 'problem' in f.postgres ? f.postgres.problem : null }));
  for (const s of servers) if (s.problem) warnings.push(`${s.host}: ${s.problem}`);
  const primaries = servers.filter((s) => s.pg?.role === 'primary').map((s) => s.host);
  if (primaries.length > 1) warnings.push(`both hosts run a PostgreSQL primary (a split site): mend it with mirrorctl rejoin before any switchover`);
  const primary = primaries.length === 1 ? primaries[0]! : null;
  const portable = portableAddress(answers, facts);
  const holder = facts.filter((f) => f.holdsPortableIp);
  if (holder.length > 1) warnings.push(`the portable IP is on both hosts (${holder.map((f) => f.name).join(', ')})`);
  if (primary && holder.length === 1 && holder[0]!.name !== primary) warnings.push(`the portable IP is on ${holder[0]!.name} but the database primary is ${primary}`);

  return {
    site: answers.site ? { value: answers.site } : missing('the site name', '--site wiki'),
    ssh: {
      user: answers.ssh.user,
      port: answers.ssh.port,
      identity_file: answers.ssh.identityFile,
      known_hosts: answers.ssh.knownHosts,
      sudo: sudoSlot(answers, facts),
    },
    hosts: facts.map((f) => ({ name: f.name, address: f.address, interface: interfaceSlot(answers, f) })),
    portableIp: portable,
    database: databaseDraft(answers, servers, warnings),
    memcached: memcachedSlot(answers, facts),
    sessions: sessionsDraft(answers, facts, primary),
    files: answers.files.length > 0 ? { value: answers.files } : missing('the uploaded-file directories to copy', '--files /var/www/uploads (repeat for each)'),
    http: answers.httpUrl ? { value: answers.httpUrl } : missing("the site's health URL through the portable IP", `--http-url http://${'value' in portable ? portable.value.split('/')[0] : 'PORTABLE_IP'}/health`),
    warnings,
    primary,
  };
}

/** Root on every host: the login is root (false) or has NOPASSWD sudo (true). */
function sudoSlot(answers: Answers, facts: HostFacts[]): Slot<boolean> {
  if (answers.ssh.sudo !== undefined) return { value: answers.ssh.sudo };
  const noRoot = facts.filter((f) => f.login.sudo === null);
  if (noRoot.length > 0) {
    return missing(`root on ${noRoot.map((f) => `${f.name} (${f.login.user} is not root and sudo -n asks for a password)`).join(', ')}`, 'give the login NOPASSWD sudo, or log in as root');
  }
  const sudo = facts.some((f) => f.login.sudo === true);
  return { value: sudo, note: sudo ? `${facts.find((f) => f.login.sudo)!.login.user} is not root; it has NOPASSWD sudo` : 'the login is root' };
}

/** ADDRESS/PREFIX: as given, the prefix from the holder's interface or the route when left out. */
function portableAddress(answers: Answers, facts: HostFacts[]): Slot<string> {
  const given = answers.portableIp;
  if (!given) return missing('the portable IP', '--portable-ip 192.0.2.100/24');
  if (given.includes('/')) return { value: given };
  const held = facts.find((f) => f.holdsPortableIp)?.holdsPortableIp;
  if (held) return { value: held.cidr, note: `prefix as on ${facts.find((f) => f.holdsPortableIp)!.name}` };
  for (const f of facts) {
    const onRoute = f.addresses.find((a) => a.iface === f.routeIface);
    if (onRoute) return { value: `${given}/${onRoute.prefix}`, note: `prefix of ${f.name}'s ${onRoute.iface}` };
  }
  return missing('the portable IP prefix length', `--portable-ip ${given}/24`);
}

function interfaceSlot(answers: Answers, f: HostFacts): Slot<string> {
  const given = answers.interfaces.get(f.name);
  if (given) return { value: given };
  if (f.holdsPortableIp) return { value: f.holdsPortableIp.iface, note: 'holds the portable IP now' };
  if (f.routeIface) return { value: f.routeIface, note: 'ip route get: where this host reaches the portable IP' };
  return missing(`${f.name}'s interface for the portable IP`, `--interface ${f.name}=eth0`);
}

type Server = { host: string; pg: PostgresFacts | null; problem: string | null };

function databaseDraft(answers: Answers, servers: Server[], warnings: string[]): Draft['database'] {
  const found = servers.filter((s): s is Server & { pg: PostgresFacts } => s.pg !== null);
  const hosts = servers.map((s) => s.host);
  /** The one value both hosts agree on (or the only host that answered), else a placeholder naming both. */
  const agreed = <T extends string | number>(pick: (pg: PostgresFacts) => T | null, what: string, example: string): Slot<T> => {
    const values = found.map((s) => ({ host: s.host, value: pick(s.pg) })).filter((v): v is { host: string; value: T } => v.value !== null && v.value !== '');
    const distinct = [...new Set(values.map((v) => v.value))];
    if (distinct.length === 1) return { value: distinct[0]!, note: values.length === servers.length ? 'both hosts' : `found on ${values[0]!.host} only` };
    if (distinct.length > 1) {
      warnings.push(`${what} differs between the hosts (${values.map((v) => `${v.host}: ${v.value}`).join(', ')}); mirrorctl needs the same on both`);
      return missing(`${what} (it differs between the hosts)`, example);
    }
    return missing(what, example);
  };
  if (found.length === 1) warnings.push(`PostgreSQL was found on ${found[0]!.host} only`);
  const primary = found.find((s) => s.pg.role === 'primary');
  const replica = found.find((s) => s.pg.role === 'replica');
  const tcpAuth = [...new Set(found.flatMap((s) => s.pg.tcpAuth))];
  const needsPassword = tcpAuth.some((m) => /^(scram-sha-256|md5|password)$/.test(m));

  const unit = agreed((pg) => pg.unit, 'the PostgreSQL service unit', '--service-stop "systemctl stop postgresql"');
  const dataDir = agreed((pg) => pg.dataDir, 'the PostgreSQL data directory', '/var/lib/postgresql/15/main');
  const binDir = agreed((pg) => pg.binDir, 'the PostgreSQL bin directory', '/usr/lib/postgresql/15/bin');
  const version = agreed((pg) => pg.version, 'the PostgreSQL version', '15');
  const owner = agreed((pg) => pg.owner, 'the data directory owner', 'postgres');
  const configFile = agreed((pg) => pg.configFile, 'postgresql.conf', '/etc/postgresql/15/main/postgresql.conf');
  const logFile = found.map((s) => s.pg.logFile).find((l) => l !== null) ?? null;
  const versionNote = 'value' in version ? `PostgreSQL ${version.value}` : undefined;

  const service = (which: 'start' | 'stop'): Slot<string> => {
    const given = answers.service[which];
    if (given) return { value: given };
    if ('value' in unit) return { value: `systemctl ${which} ${unit.value}`, note: `the systemd unit running PostgreSQL` };
    if (!('value' in dataDir) || !('value' in binDir) || !('value' in owner)) return missing(`the command that ${which}s PostgreSQL`, `--service-${which} "systemctl ${which} postgresql"`);
    return { value: pgCtl(which, binDir.value, dataDir.value, owner.value, 'value' in configFile ? configFile.value : null, logFile), note: `no service manager unit runs it: pg_ctl as ${owner.value}` };
  };

  return {
    hosts,
    port: answers.dbPort !== undefined ? { value: answers.dbPort } : agreed((pg) => pg.port, 'the PostgreSQL port', '--db-port 5432'),
    passwordEnv: answers.passwordEnv
      ? { value: answers.passwordEnv }
      : answers.passwordEnv === null || (found.length > 0 && tcpAuth.length > 0 && !needsPassword)
        ? { none: tcpAuth.length > 0 ? `pg_hba.conf asks no password of TCP connections (${tcpAuth.join(', ')})` : 'none given' }
        : missing('the environment variable holding the database password', `--password-env ${(answers.site ?? 'site').toUpperCase().replace(/[^A-Z0-9_]/g, '_')}_DB_PASSWORD`),
    replicationUser: replica?.pg.replicationUser ? { value: replica.pg.replicationUser, note: `${replica.host}'s primary_conninfo` } : null,
    binDir: 'value' in binDir ? { value: binDir.value, note: versionNote } : binDir,
    dataDir: 'value' in dataDir && primary ? { value: dataDir.value, note: `${primary.host} is the primary now` } : dataDir,
    configFile: 'value' in configFile ? configFile.value : null,
    start: service('start'),
    stop: service('stop'),
  };
}

/** pg_ctl run as the data directory's owner, from `/`, waiting; start logs where the server logged. */
export function pgCtl(which: 'start' | 'stop', binDir: string, dataDir: string, owner: string, configFile: string | null, logFile: string | null): string {
  const pgctl = [`${binDir.replace(/\/+$/, '')}/pg_ctl`, '-D', dataDir];
  const argv =
    which === 'stop'
      ? [...pgctl, '-m', 'fast', '-w', '-t', '90', 'stop']
      : [...pgctl, '-l', logFile ?? `${dataDir}/pg_ctl.log`, ...(configFile ? ['-o', `-c config_file=${configFile}`] : []), '-w', '-t', '90', 'start'];
  const inner = argv.map(quote).join(' ');
  // Double quotes around the inner command read best, when nothing in it is special there.
  const outer = /["$`\\]/.test(inner) ? quote(inner) : `"${inner}"`;
  return `cd / && su ${quote(owner)} -s /bin/sh -c ${outer}`;
}

function memcachedSlot(answers: Answers, facts: HostFacts[]): Slot<string[]> {
  if (answers.memcached.length > 0) return { value: answers.memcached };
  const servers = facts.flatMap((f) => f.memcached);
  if (servers.length > 0) return { value: servers, note: 'listening sockets (ss -ltnp)' };
  const loopback = facts.flatMap((f) => f.memcachedLoopback.map((s) => `${f.name} ${s}`));
  return missing(
    loopback.length > 0 ? `memcached servers the control machine can reach (found on loopback only: ${loopback.join(', ')})` : 'the memcached servers (none listens on either host)',
    '--memcached 192.0.2.10:11211',
  );
}

function sessionsDraft(answers: Answers, facts: HostFacts[], primary: string | null): Draft['sessions'] {
  const given = answers.sessions;
  const candidates = [...new Set(facts.flatMap((f) => f.sessionCandidates))];
  const file: Slot<string> = given.file
    ? { value: given.file }
    : missing(`the file holding the session backend setting${candidates.length > 0 ? ` (candidates: ${candidates.slice(0, 5).join(', ')})` : ''}`, '--sessions-file /etc/app/app.ini');
  const lines = (facts.find((f) => f.name === primary) ?? facts[0])?.sessionLines ?? null;
  const keys = [...new Set((lines ?? []).map((l) => l.key))];
  const key: Slot<string> = given.key
    ? { value: given.key }
    : keys.length === 1
      ? { value: keys[0]!, note: `the one session setting in ${given.file}` }
      : missing(`the sessions key${keys.length > 1 ? ` (one of ${keys.join(', ')})` : ''}`, '--sessions-key session.backend');
  const now = lines?.find((l) => 'value' in key && l.key === key.value)?.value;
  const hint = now !== undefined ? ` (it is "${now}" now)` : '';
  return {
    file,
    key,
    readOnly: given.readOnly !== undefined ? { value: given.readOnly } : missing(`the value that means read-only sessions${hint}`, '--read-only memcache'),
    readWrite: given.readWrite !== undefined ? { value: given.readWrite } : missing(`the value that means sessions in the database${hint}`, '--read-write database'),
    reload: given.reload ?? null,
  };
}

/** Every placeholder of a draft: its key path and what it needs. */
export function placeholders(draft: Draft): Array<{ key: string; what: string; example: string }> {
  const found: Array<{ key: string; what: string; example: string }> = [];
  const visit = (key: string, slot: unknown) => {
    if (slot && typeof slot === 'object' && 'missing' in slot) {
      const { missing: what, example } = slot as { missing: string; example: string };
      found.push({ key, what, example });
    }
  };
  visit('site', draft.site);
  visit('ssh.sudo', draft.ssh.sudo);
  for (const h of draft.hosts) visit(`hosts.${h.name}.interface`, h.interface);
  visit('portable_ip.address', draft.portableIp);
  visit('database.port', draft.database.port);
  visit('database.password_env', draft.database.passwordEnv);
  visit('database.bin_dir', draft.database.binDir);
  visit('database.data_dir', draft.database.dataDir);
  visit('database.service.start', draft.database.start);
  visit('database.service.stop', draft.database.stop);
  visit('memcached.servers', draft.memcached);
  visit('sessions.file', draft.sessions.file);
  visit('sessions.key', draft.sessions.key);
  visit('sessions.read_only', draft.sessions.readOnly);
  visit('sessions.read_write', draft.sessions.readWrite);
  visit('files.paths', draft.files);
  visit('http.url', draft.http);
  return found;
}
