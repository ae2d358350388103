import { StepFailedError } from '../errors.js';
import { lastLine } from '../transports/last-line.js';
import { sh } from '../transports/quote.js';
import type { Transport } from '../transports/types.js';
import { conninfoValue } from './conninfo.js';
import type { DatabaseState } from './database-state-type.js';
import { asPostgresUser, pgBin, type ControlData, type DatabaseSettings } from './postgres-server.js';

/** Whether a rewind may be needed (`text` says so), and whether the cluster forbids it (`blocked`). */
export interface RewindNeed {
  blocked: boolean;
  text: string;
}

/**
 * Whether a rewind may be needed, and whether the cluster allows it (wal_log_hints or checksums).
 * Any timeline difference may mean diverged histories, whichever number is higher: in a split
 * the host being rejoined can be the one promoted last. `pg_rewind --dry-run` decides at apply.
 */
export function rewindNeed(host: string, primary: string, timeline: number, primaryState: DatabaseState, control: ControlData): RewindNeed {
  const primaryTimeline = primaryState.timeline ?? 0;
  if (timeline === primaryTimeline) return { blocked: false, text: `no rewind (both on timeline ${timeline})` };
  const relation = `timeline ${timeline}, ${primary} on ${primaryTimeline}`;
  if (!control.walLogHints && !control.checksums) {
    return { blocked: true, text: `${host} is on ${relation}: pg_rewind may be needed but ${host}'s cluster has neither wal_log_hints = on nor data checksums` };
  }
  return { blocked: false, text: `pg_rewind when its history diverged (${host} on ${relation}; wal_log_hints ${control.walLogHints ? 'on' : 'off'}, checksums ${control.checksums ? 'on' : 'off'})` };
}

/** States pg_rewind accepts without crash recovery first (postgres-stop also counts a rewound "in archive recovery" as clean). */
const SHUT_DOWN_STATES = ['shut down', 'shut down in recovery'];

/** True when pg_rewind takes the cluster as it is (cleanly shut down); false when its crash recovery must be finished first. */
export function rewindableAsIs(control: ControlData): boolean {
  return SHUT_DOWN_STATES.includes(control.state);
}

/** pg_rewind --dry-run decides; pg_rewind itself runs only when the histories diverged. */
export async function rewindIfDiverged(transport: Transport, database: DatabaseSettings, host: string, primaryAddress: string, passfile: string | null, timeoutMs: number): Promise<string> {
  const parts = [`host=${conninfoValue(primaryAddress)}`, `port=${database.port}`, `user=${conninfoValue(database.user)}`, `dbname=${conninfoValue(database.dbname)}`];
  if (passfile) parts.push(`passfile=${conninfoValue(passfile)}`);
  const source = parts.join(' ');
  const rewind = (dryRun: boolean) =>
    asPostgresUser(database, `${sh`${pgBin(database, 'pg_rewind')} ${`--target-pgdata=${database.data_dir}`} ${`--source-server=${source}`}`}${dryRun ? ' --dry-run' : ''} 2>&1`);
  const dry = await transport.exec(rewind(true), { timeoutMs });
  if (dry.exitCode !== 0) throw new StepFailedError(`pg_rewind --dry-run on ${host} failed: ${lastLine(dry.stdout) || `exit ${dry.exitCode}`}`);
  if (/no rewind required/i.test(dry.stdout)) return 'no rewind required (pg_rewind --dry-run)';
  const real = await transport.exec(rewind(false), { timeoutMs });
  if (real.exitCode !== 0) throw new StepFailedError(`pg_rewind on ${host} failed: ${lastLine(real.stdout) || `exit ${real.exitCode}`}`, { hint: `see the output of pg_rewind on ${host}; its data directory may need a new base backup` });
  const diverged = /servers diverged at WAL location \S+ on timeline \d+/i.exec(dry.stdout)?.[0];
  return `rewound with pg_rewind${diverged ? ` (${diverged})` : ''}`;
}
