import { randomBytes } from 'node:crypto';
import { access, appendFile, chmod, chown, readFile, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { nodeExec, nodeExecOk } from './exec.js';
import { writeHostFile } from './host-files.js';
import { userIds } from './mount-namespace.js';
import {
  APP_SECRET_FILE,
  PG_APP_USER,
  PG_BIN_DIR,
  PG_DATA_DIR,
  PG_HOST_CONF,
  PG_PORT,
  PG_REPLICATION_USER,
  PG_SUPERUSER,
  hostPath,
  type LabHostName,
  type LabNames,
} from './paths.js';
import { PG_START, PG_START_SCRIPT, PG_STOP, PG_STOP_SCRIPT } from './postgres-scripts.js';
import type { LabState } from './state.js';

// PostgreSQL 15 in the lab, set up like production: scram-sha-256 on every TCP
// connection (peer only for the postgres OS user on the socket), a separate
// replication login with only REPLICATION, fsync/full_page_writes/synchronous_commit
// at their defaults, a non-default port. A primary on web1 (initdb) and a streaming
// replica on web2 (pg_basebackup -R -c fast -X stream), data in
// /var/lib/postgresql/15/main on both. The database password lives on the control
// machine only (DIR/db-password); the replica's primary_conninfo, as pg_basebackup -R
// writes it, is the one copy on a host.

const AS_POSTGRES = 'setpriv --reuid=postgres --regid=postgres --init-groups -- env HOME=/var/lib/postgresql';
const PSQL = `${AS_POSTGRES} psql -X -q -h /run/postgresql -p ${PG_PORT} -U ${PG_SUPERUSER} -v ON_ERROR_STOP=1`;

function labSettings(): string {
  return `
# --- mirrorctl lab ---
port = ${PG_PORT}
unix_socket_directories = '/run/postgresql'
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
wal_keep_size = 128MB
hot_standby = on
hot_standby_feedback = on
# No data checksums in this cluster: pg_rewind needs wal_log_hints (and full_page_writes).
wal_log_hints = on
full_page_writes = on
password_encryption = scram-sha-256
shared_buffers = 32MB
max_connections = 50
log_line_prefix = '%m [%p] '
# This host's own settings (listen_addresses), kept outside the data directory so that
# pg_basebackup and pg_rewind never carry one host's addresses to the other.
include_if_exists = '${PG_HOST_CONF}'
`;
}

function hbaConf(subnet: string): string {
  return `# mirrorctl lab, like production: a password (scram-sha-256) on every TCP connection;
# only the postgres OS user logs in without one, on the socket (peer).
local   all          ${PG_SUPERUSER}                       peer
local   all          all                            scram-sha-256
host    all          all                 127.0.0.1/32      scram-sha-256
host    all          all                 ${subnet}.0/24    scram-sha-256
host    replication  ${PG_REPLICATION_USER}          127.0.0.1/32      scram-sha-256
host    replication  ${PG_REPLICATION_USER}          ${subnet}.0/24    scram-sha-256
`;
}

/** The roles: replication login (REPLICATION only) and the app's login, with the rights the app needs. */
function rolesSql(password: string, appPassword: string): string {
  return `
CREATE ROLE ${PG_REPLICATION_USER} WITH LOGIN REPLICATION PASSWORD '${password}';
CREATE ROLE ${PG_APP_USER} WITH LOGIN PASSWORD '${appPassword}';
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${PG_APP_USER};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${PG_APP_USER};
`;
}

/** A new random password (URL-safe base64: no quoting needed in SQL, conninfo or .pgpass). */
function newPassword(): string {
  return randomBytes(18).toString('base64url');
}

/** The lab's database password (DIR/db-password, mode 600), created on first use. */
export async function labPassword(names: LabNames): Promise<string> {
  const existing = await readFile(names.passwordFile, 'utf8').catch(() => null);
  if (existing) return existing.trim();
  const password = newPassword();
  await writeFile(names.passwordFile, `${password}\n`, { mode: 0o600 });
  await chmod(names.passwordFile, 0o600);
  return password;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS sessions (
  id text PRIMARY KEY,
  user_name text NOT NULL,
  data text NOT NULL DEFAULT '',
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS writes (
  id bigserial PRIMARY KEY,
  note text,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS probe_writes (
  id int PRIMARY KEY,
  n bigint NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);
`;

async function hasCluster(names: LabNames, host: LabHostName): Promise<boolean> {
  return access(hostPath(names, host, `${PG_DATA_DIR}/PG_VERSION`)).then(() => true, () => false);
}

/** The host's start/stop scripts and its own settings file. */
async function writeHostSettings(names: LabNames, state: LabState, host: LabHostName): Promise<void> {
  await writeHostFile(names, host, PG_START_SCRIPT, PG_START, 0o755);
  await writeHostFile(names, host, PG_STOP_SCRIPT, PG_STOP, 0o755);
  await writeHostFile(names, host, PG_HOST_CONF, `# ${host}'s own PostgreSQL settings (mirrorctl lab)\nlisten_addresses = '${state.nodes[host].address},127.0.0.1'\n`);
}

/** Starts the host's server with its start script (idempotent); returns the postmaster pid. */
export async function startPostgres(names: LabNames, host: LabHostName): Promise<number> {
  await nodeExecOk(names, host, PG_START_SCRIPT, { timeoutMs: 120_000 });
  const pid = await nodeExecOk(names, host, `head -n 1 ${PG_DATA_DIR}/postmaster.pid`);
  return Number(pid.stdout.trim());
}

/** web1's primary: initdb, settings, start, the wiki database. Only started when it exists already. */
export async function ensurePrimary(names: LabNames, state: LabState, host: LabHostName): Promise<number> {
  await writeHostSettings(names, state, host);
  const fresh = !(await hasCluster(names, host));
  const password = await labPassword(names);
  if (fresh) {
    // initdb reads the superuser's password from a file: one only postgres may read, gone at once.
    const pwfile = '/var/lib/postgresql/15/.initdb-password';
    const postgres = await userIds('postgres');
    const pwPath = await writeHostFile(names, host, pwfile, `${password}\n`, 0o600);
    await chown(pwPath, postgres.uid, postgres.gid);
    try {
      await nodeExecOk(names, host, `cd / && ${AS_POSTGRES} ${PG_BIN_DIR}/initdb -D ${PG_DATA_DIR} -U ${PG_SUPERUSER} --auth-local=peer --auth-host=scram-sha-256 --pwfile=${pwfile} --no-sync --no-locale -E UTF8 >/dev/null`);
    } finally {
      await rm(pwPath, { force: true });
    }
    const conf = hostPath(names, host, `${PG_DATA_DIR}/postgresql.conf`);
    await appendFile(conf, labSettings());
    await writeHostFile(names, host, `${PG_DATA_DIR}/pg_hba.conf`, hbaConf(state.subnet), 0o600);
    await nodeExecOk(names, host, `chown postgres:postgres ${PG_DATA_DIR}/pg_hba.conf`);
  }
  const pid = await startPostgres(names, host);
  if (fresh) {
    await nodeExecOk(names, host, `${PSQL} -d postgres -c 'CREATE DATABASE wiki'`);
    // Passwords through stdin, never on a command line.
    await nodeExecOk(names, host, `${PSQL} -d wiki`, { input: SCHEMA + rolesSql(password, await appPassword(names)) });
  }
  return pid;
}

/** web2's replica: a base backup of `primary` (fast checkpoint, WAL streamed), then start. */
export async function ensureReplica(names: LabNames, state: LabState, host: LabHostName, primary: LabHostName): Promise<number> {
  await writeHostSettings(names, state, host);
  if (!(await hasCluster(names, host))) {
    const from = state.nodes[primary].address;
    // -c fast: the default spread checkpoint would take ~90 s. The password comes on stdin;
    // -R writes it into primary_conninfo, as it would on a real replica.
    await nodeExecOk(
      names,
      host,
      `IFS= read -r PGPASSWORD && export PGPASSWORD && cd / && rm -rf ${PG_DATA_DIR} && ${AS_POSTGRES} ${PG_BIN_DIR}/pg_basebackup -h ${from} -p ${PG_PORT} -U ${PG_REPLICATION_USER} -D ${PG_DATA_DIR} -R -c fast -X stream --no-sync`,
      { timeoutMs: 120_000, input: `${await labPassword(names)}\n` },
    );
  }
  return startPostgres(names, host);
}

/** The web app's own database password, in each host's APP_SECRET_FILE (root only); the same on both. */
export async function appPassword(names: LabNames): Promise<string> {
  const existing = await readFile(hostPath(names, 'web1', APP_SECRET_FILE), 'utf8').catch(() => null);
  if (existing) return existing.trim();
  const password = newPassword();
  for (const host of ['web1', 'web2'] as const) await writeHostFile(names, host, APP_SECRET_FILE, `${password}\n`, 0o600);
  return password;
}

/** Waits until `primary` reports `replica`'s address as streaming (bounded). */
export async function waitStreaming(names: LabNames, state: LabState, primary: LabHostName, replica: LabHostName, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const query = `SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' AND client_addr = '${state.nodes[replica].address}'`;
  while (Date.now() < deadline) {
    const result = await nodeExec(names, primary, `${PSQL} -At -d postgres -c "${query}"`);
    if (result.exitCode === 0 && Number(result.stdout.trim()) > 0) return true;
    await sleep(200);
  }
  return false;
}

/** "primary", "replica" or "down", asked over the host's socket. */
export async function postgresRole(names: LabNames, host: LabHostName): Promise<'primary' | 'replica' | 'down'> {
  const result = await nodeExec(names, host, `${PSQL} -At -d postgres -c 'SELECT pg_is_in_recovery()'`, { timeoutMs: 10_000 });
  if (result.exitCode !== 0) return 'down';
  return result.stdout.trim() === 't' ? 'replica' : 'primary';
}
