import { access, appendFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { nodeExec, nodeExecOk } from './exec.js';
import { writeHostFile } from './host-files.js';
import { PG_BIN_DIR, PG_DATA_DIR, PG_HOST_CONF, hostPath, type LabHostName, type LabNames } from './paths.js';
import { PG_START, PG_START_SCRIPT, PG_STOP, PG_STOP_SCRIPT } from './postgres-scripts.js';
import type { LabState } from './state.js';

// PostgreSQL 15 in the lab: a primary on web1 (initdb) and a streaming replica on
// web2 (pg_basebackup -R -c fast -X stream), data in /var/lib/postgresql/15/main on both.

const AS_POSTGRES = 'setpriv --reuid=postgres --regid=postgres --init-groups -- env HOME=/var/lib/postgresql';
const PSQL = 'psql -X -q -h /run/postgresql -U postgres -v ON_ERROR_STOP=1';

function labSettings(): string {
  return `
# --- mirrorctl lab ---
port = 5432
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
# Lab only: durability traded for speed (a lab host never loses power). Never on a real server.
fsync = off
synchronous_commit = off
shared_buffers = 32MB
max_connections = 50
log_line_prefix = '%m [%p] '
# This host's own settings (listen_addresses), kept outside the data directory so that
# pg_basebackup and pg_rewind never carry one host's addresses to the other.
include_if_exists = '${PG_HOST_CONF}'
`;
}

function hbaConf(subnet: string): string {
  return `# mirrorctl lab ONLY: trust the lab subnet and localhost, replication included.
# Never do this on a real server.
local   all          all                    trust
local   replication  all                    trust
host    all          all   127.0.0.1/32     trust
host    replication  all   127.0.0.1/32     trust
host    all          all   ${subnet}.0/24   trust
host    replication  all   ${subnet}.0/24   trust
`;
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
  if (fresh) {
    await nodeExecOk(names, host, `cd / && ${AS_POSTGRES} ${PG_BIN_DIR}/initdb -D ${PG_DATA_DIR} -U postgres --auth=trust --no-sync --no-locale -E UTF8 >/dev/null`);
    const conf = hostPath(names, host, `${PG_DATA_DIR}/postgresql.conf`);
    await appendFile(conf, labSettings());
    await writeHostFile(names, host, `${PG_DATA_DIR}/pg_hba.conf`, hbaConf(state.subnet), 0o600);
    await nodeExecOk(names, host, `chown postgres:postgres ${PG_DATA_DIR}/pg_hba.conf`);
  }
  const pid = await startPostgres(names, host);
  if (fresh) {
    await nodeExecOk(names, host, `${PSQL} -d postgres -c 'CREATE DATABASE wiki'`);
    await nodeExecOk(names, host, `${PSQL} -d wiki`, { input: SCHEMA });
  }
  return pid;
}

/** web2's replica: a base backup of `primary` (fast checkpoint, WAL streamed), then start. */
export async function ensureReplica(names: LabNames, state: LabState, host: LabHostName, primary: LabHostName): Promise<number> {
  await writeHostSettings(names, state, host);
  if (!(await hasCluster(names, host))) {
    const from = state.nodes[primary].address;
    // -c fast: the default spread checkpoint would take ~90 s.
    await nodeExecOk(
      names,
      host,
      `cd / && rm -rf ${PG_DATA_DIR} && ${AS_POSTGRES} ${PG_BIN_DIR}/pg_basebackup -h ${from} -p 5432 -U postgres -D ${PG_DATA_DIR} -R -c fast -X stream --no-sync`,
      { timeoutMs: 120_000 },
    );
  }
  return startPostgres(names, host);
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
