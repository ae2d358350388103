// PostgreSQL as one host runs it, found from the running server (its listening socket,
// /proc, postmaster.pid, pg_controldata, SHOW as the data directory's owner) and the
// service manager (the systemd unit whose main process it is), else pg_lsclusters.
import { posix } from 'node:path';
import { quote, sh } from '../transports/quote.js';
import { conninfoUser, parseLsClusters, serviceUnitOf, tcpAuthMethods, type ListeningSocket } from './parse.js';
import type { RootShell } from './root-shell.js';

export interface PostgresFacts {
  /** The postmaster's pid (null: found through pg_lsclusters, not running). */
  pid: number | null;
  running: boolean;
  port: number;
  version: string;
  dataDir: string;
  binDir: string;
  owner: string;
  /** postgresql.conf when it lives outside the data directory (Debian's /etc/postgresql/...). */
  configFile: string | null;
  /** Where the server writes its stderr (pg_ctl -l). */
  logFile: string | null;
  role: 'primary' | 'replica' | 'unknown';
  /** The replica's primary_conninfo user (never its password). */
  replicationUser: string | null;
  /** The systemd unit whose main process is the postmaster, or the cluster's unit. */
  unit: string | null;
  /** pg_hba.conf's methods for TCP connections; empty when unread. */
  tcpAuth: string[];
}

export type PostgresFinding = { facts: PostgresFacts } | { problem: string };

/** Finds the host's PostgreSQL server; `port` picks one when several run. */
export async function discoverPostgres(shell: RootShell, sockets: ListeningSocket[], port: number | undefined): Promise<PostgresFinding> {
  const postmasters = new Map<number, number>();
  for (const socket of sockets) {
    for (const p of socket.processes) if (p.name === 'postgres' || p.name === 'postmaster') postmasters.set(p.pid, socket.port);
  }
  let chosen = [...postmasters.entries()];
  if (port !== undefined) chosen = chosen.filter(([, p]) => p === port);
  if (chosen.length > 1) {
    return { problem: `several PostgreSQL servers listen (ports ${chosen.map(([, p]) => p).join(', ')}); give --db-port` };
  }
  if (chosen.length === 1) return { facts: await runningServer(shell, chosen[0]![0], chosen[0]![1]) };
  return listedCluster(shell, port);
}

/** Reads one running postmaster: /proc, postmaster.pid, pg_controldata, SHOW, systemd. */
async function runningServer(shell: RootShell, pid: number, listenPort: number): Promise<PostgresFacts> {
  const proc = `/proc/${pid}`;
  const about = keyValues(
    (
      await shell.run(
        [
          `d=$(readlink ${proc}/cwd)`,
          'echo "datadir=$d"',
          `echo "exe=$(readlink ${proc}/exe)"`,
          `echo "log=$(readlink ${proc}/fd/2)"`,
          `tr '\\0' '\\n' < ${proc}/cmdline | sed 's/^/arg=/'`,
          'echo "owner=$(stat -c %U "$d")"',
          'echo "version=$(cat "$d/PG_VERSION")"',
          'echo "socketdir=$(sed -n 5p "$d/postmaster.pid")"',
          '[ -e "$d/standby.signal" ] && echo standby=yes',
          `sed 's/^/cgroup=/' ${proc}/cgroup`,
          'true',
        ].join('; '),
      )
    ).stdout,
  );
  const dataDir = about.get('datadir')?.[0] ?? '';
  const binDir = posix.dirname(about.get('exe')?.[0] ?? '/usr/bin/postgres');
  const owner = about.get('owner')?.[0] || 'postgres';
  const args = about.get('arg') ?? [];
  const socketDir = about.get('socketdir')?.[0] || '/tmp';
  const shown = await showSettings(shell, owner, binDir, socketDir, listenPort);
  const configFile = configFileOf(args) ?? shown.get('config_file') ?? null;
  const role = about.has('standby') ? 'replica' : await controlRole(shell, owner, binDir, dataDir);
  const log = about.get('log')?.[0] ?? '';
  return {
    pid,
    running: true,
    port: Number(shown.get('port') ?? listenPort),
    version: about.get('version')?.[0] || shown.get('server_version')?.split('.')[0] || '',
    dataDir: shown.get('data_directory') ?? dataDir,
    binDir,
    owner,
    configFile: configFile && !configFile.startsWith(`${dataDir}/`) ? configFile : null,
    logFile: log.startsWith('/') && !log.startsWith('/dev/') && !/\(deleted\)$/.test(log) ? log : null,
    role,
    replicationUser: role === 'replica' ? await replicationUser(shell, dataDir, configFile) : null,
    unit: await mainPidUnit(shell, pid, (about.get('cgroup') ?? []).join('\n')),
    tcpAuth: tcpAuthMethods((await shell.run(sh`cat ${shown.get('hba_file') ?? `${dataDir}/pg_hba.conf`}`)).stdout),
  };
}

/** A cluster that is not running, as Debian's pg_lsclusters lists it (only when exactly one matches). */
async function listedCluster(shell: RootShell, port: number | undefined): Promise<PostgresFinding> {
  const listed = await shell.run('command -v pg_lsclusters >/dev/null && pg_lsclusters -h');
  const clusters = parseLsClusters(listed.stdout).filter((c) => port === undefined || c.port === port);
  if (clusters.length !== 1) {
    return { problem: clusters.length === 0 ? 'no PostgreSQL server listens, and pg_lsclusters lists none' : `pg_lsclusters lists several clusters and none runs; give --db-port` };
  }
  const cluster = clusters[0]!;
  const binDir = `/usr/lib/postgresql/${cluster.version}/bin`;
  const unit = `postgresql@${cluster.version}-${cluster.name}.service`;
  const known = await shell.run(sh`systemctl cat ${unit} >/dev/null 2>&1`);
  return {
    facts: {
      pid: null,
      running: false,
      port: cluster.port,
      version: cluster.version,
      dataDir: cluster.dataDir,
      binDir,
      owner: cluster.owner,
      configFile: `/etc/postgresql/${cluster.version}/${cluster.name}/postgresql.conf`,
      logFile: null,
      role: await controlRole(shell, cluster.owner, binDir, cluster.dataDir),
      replicationUser: null,
      unit: known.exitCode === 0 ? unit : null,
      tcpAuth: [],
    },
  };
}

/** SHOW of the settings init needs, as the owner over the server's socket; empty when the server refuses. */
async function showSettings(shell: RootShell, owner: string, binDir: string, socketDir: string, port: number): Promise<Map<string, string>> {
  const names = ['data_directory', 'config_file', 'hba_file', 'port', 'server_version'];
  const query = `SELECT name, setting FROM pg_settings WHERE name IN (${names.map((n) => `'${n}'`).join(', ')})`;
  const result = await shell.runAs(owner, sh`${`${binDir}/psql`} -XAtq -F = -h ${socketDir} -p ${port} -d postgres -c ${query}`);
  const settings = new Map<string, string>();
  if (result.exitCode !== 0) return settings;
  for (const [key, values] of keyValues(result.stdout)) if (values[0]) settings.set(key, values[0]);
  return settings;
}

/** primary or replica, from pg_controldata's cluster state. */
async function controlRole(shell: RootShell, owner: string, binDir: string, dataDir: string): Promise<PostgresFacts['role']> {
  const result = await shell.runAs(owner, sh`${`${binDir}/pg_controldata`} -D ${dataDir}`);
  const state = /^Database cluster state:\s*(.*)$/m.exec(result.stdout)?.[1]?.trim();
  if (state === 'in production') return 'primary';
  if (state === 'in archive recovery' || state === 'shut down in recovery') return 'replica';
  return 'unknown';
}

/** The replica's streaming login, from the primary_conninfo lines of its settings files. */
async function replicationUser(shell: RootShell, dataDir: string, configFile: string | null): Promise<string | null> {
  const files = [`${dataDir}/postgresql.auto.conf`, configFile ?? `${dataDir}/postgresql.conf`];
  const result = await shell.run(`grep -h '^[[:space:]]*primary_conninfo' ${files.map(quote).join(' ')} 2>/dev/null; true`);
  // The last setting wins, as in PostgreSQL; postgresql.auto.conf is read last, so it is listed first here.
  const lines = result.stdout.trim().split('\n').filter(Boolean);
  return conninfoUser(lines[0] ?? '');
}

/** The systemd unit whose main process is `pid` (never a unit that merely contains it, such as a CI runner's). */
async function mainPidUnit(shell: RootShell, pid: number, cgroup: string): Promise<string | null> {
  const unit = serviceUnitOf(cgroup);
  if (!unit) return null;
  const result = await shell.run(sh`systemctl show -p MainPID --value ${unit}`);
  return result.exitCode === 0 && Number(result.stdout.trim()) === pid ? unit : null;
}

/** The server's `-c config_file=X` / `--config-file=X` / `--config_file=X` argument. */
function configFileOf(args: string[]): string | null {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const inline = /^--config[-_]file=(.+)$/.exec(arg)?.[1] ?? /^-cconfig_file=(.+)$/.exec(arg)?.[1];
    if (inline) return inline;
    if (arg === '-c') {
      const value = /^config_file=(.+)$/.exec(args[i + 1] ?? '')?.[1];
      if (value) return value;
    }
  }
  return null;
}

/** `key=value` lines into key → values (in order). */
function keyValues(text: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq);
    map.set(key, [...(map.get(key) ?? []), line.slice(eq + 1)]);
  }
  return map;
}
