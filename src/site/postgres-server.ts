import { randomBytes } from 'node:crypto';
import { ConfigError } from '../errors.js';
import type { Inventory, InventoryDocument } from '../inventory/schema.js';
import { CommandError } from '../transports/command-error.js';
import { sh } from '../transports/quote.js';
import type { CommandResult, Transport } from '../transports/types.js';

// The PostgreSQL server seen from its host's shell: pg_controldata, pg_ctl status, the
// operator's start/stop commands. PostgreSQL's programs run as the owner of data_dir.

export type DatabaseSettings = NonNullable<InventoryDocument['database']>;

/** The inventory's database section (validate guarantees it for actions that need it). */
export function databaseSettings(inventory: Inventory): DatabaseSettings {
  const database = inventory.doc.database;
  if (!database) throw new ConfigError(`${inventory.file} has no database section`, { hint: 'add database: (spec section 5)' });
  return database;
}

/** A shell command line that runs `command` (already quoted) as the OS user owning data_dir, from `/`. */
export function asPostgresUser(database: DatabaseSettings, command: string): string {
  return sh`u=$(stat -c %U ${database.data_dir}) && cd / && su "$u" -s /bin/sh -c ${`LC_ALL=C; export LC_ALL; ${command}`}`;
}

/** `bin_dir/NAME`. */
export function pgBin(database: DatabaseSettings, name: string): string {
  return `${database.bin_dir.replace(/\/+$/, '')}/${name}`;
}

/** What pg_controldata says about the cluster, as it stands on disk. */
export interface ControlData {
  /** "in production", "shut down", "shut down in recovery", "in archive recovery", ... */
  state: string;
  checkpointLsn: string;
  timeline: number;
  walLogHints: boolean;
  checksums: boolean;
}

/** Runs pg_controldata on the host (LC_ALL=C, so the labels are English). */
export async function controlData(host: Transport, database: DatabaseSettings, timeoutMs: number): Promise<ControlData> {
  const result = await host.exec(asPostgresUser(database, sh`${pgBin(database, 'pg_controldata')} -D ${database.data_dir}`), { timeoutMs });
  if (result.exitCode !== 0) throw new CommandError(result);
  return parseControlData(result.stdout, result);
}

/** Parses pg_controldata's `Label: value` lines. */
export function parseControlData(text: string, result?: CommandResult): ControlData {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  const need = (label: string): string => {
    const value = fields.get(label);
    if (value === undefined) {
      if (result) throw new CommandError({ ...result, exitCode: result.exitCode ?? 1, stderr: `pg_controldata printed no "${label}"` });
      throw new Error(`pg_controldata printed no "${label}"`);
    }
    return value;
  };
  return {
    state: need('Database cluster state'),
    checkpointLsn: need('Latest checkpoint location'),
    timeline: Number(need("Latest checkpoint's TimeLineID")),
    walLogHints: need('wal_log_hints setting') === 'on',
    checksums: (fields.get('Data page checksum version') ?? '0') !== '0',
  };
}

/** True when a postmaster runs on the data directory (`pg_ctl status` exits 0). */
export async function serverRunning(host: Transport, database: DatabaseSettings, timeoutMs: number): Promise<boolean> {
  const result = await host.exec(asPostgresUser(database, sh`${pgBin(database, 'pg_ctl')} status -D ${database.data_dir}`), { timeoutMs });
  if (result.exitCode === 0) return true;
  if (result.exitCode === 3) return false;
  throw new CommandError(result);
}

/**
 * One command: whether a postmaster runs on the data directory (`pg_ctl status`) and what
 * pg_controldata says, for a check right after a stop (one round trip, not two).
 */
export async function stoppedState(host: Transport, database: DatabaseSettings, timeoutMs: number): Promise<{ running: boolean; control: ControlData }> {
  const result = await host.exec(asPostgresUser(database, stoppedQuery(database)), { timeoutMs });
  return readStopped(result.stdout, result);
}

/** pg_ctl status (0 running, 3 not) and pg_controldata, in one shell command. */
function stoppedQuery(database: DatabaseSettings): string {
  return sh`${pgBin(database, 'pg_ctl')} status -D ${database.data_dir} >/dev/null 2>&1; echo "pg_ctl status $?"; ${pgBin(database, 'pg_controldata')} -D ${database.data_dir}`;
}

function readStopped(stdout: string, result: CommandResult): { running: boolean; control: ControlData } {
  const first = /^pg_ctl status (\d+)$/m.exec(stdout);
  if (result.exitCode !== 0 || !first || !['0', '3'].includes(first[1]!)) throw new CommandError(result);
  return { running: first[1] === '0', control: parseControlData(stdout, result) };
}

/**
 * The inventory's `database.service.stop`, as the operator wrote it (in a subshell of its
 * own), then what `stoppedState` asks (pg_ctl status, pg_controldata) in the same remote
 * command: the step inside a switchover's outage makes one round trip, not two, and its
 * verify reads the state the host reported right after the stop.
 */
export async function stopService(host: Transport, database: DatabaseSettings, timeoutMs: number): Promise<{ running: boolean; control: ControlData }> {
  const marker = `@@stopped-${randomBytes(8).toString('hex')}`;
  const after = asPostgresUser(database, stoppedQuery(database));
  const result = await host.exec(`(\n${database.service.stop}\n) || exit $?\nprintf '%s\\n' ${marker}\n${after}`, { timeoutMs });
  const at = result.stdout.indexOf(`${marker}\n`);
  // The stop failed (or timed out): said with its own output, as when it ran alone.
  if (at < 0 || result.timedOut) throw new CommandError({ ...result, command: database.service.stop, stdout: at < 0 ? result.stdout : result.stdout.slice(0, at) });
  const stdout = result.stdout.slice(at + marker.length + 1);
  return readStopped(stdout, { ...result, command: `pg_ctl status; pg_controldata -D ${database.data_dir}`, stdout });
}

/** Runs the inventory's `database.service.stop` or `start`, as the operator wrote it. */
export async function runService(host: Transport, database: DatabaseSettings, which: 'start' | 'stop', timeoutMs: number): Promise<CommandResult> {
  const result = await host.exec(database.service[which], { timeoutMs });
  if (result.exitCode !== 0 || result.timedOut) throw new CommandError(result);
  return result;
}
