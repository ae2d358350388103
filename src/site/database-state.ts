import type { Inventory } from '../inventory/schema.js';
import type { HostPool } from '../transports/pool.js';
import type { DatabaseState } from './database-state-type.js';
import { sawState } from './facts.js';
import { DatabaseDownError, pgQuery } from './postgres.js';

export type { DatabaseState };

// One statement for everything. The timeline: a primary's is in the name of its current WAL
// file (pg_control_checkpoint() lags until the first checkpoint after a promotion); a replica's
// is the one its WAL receiver gets, else its last restartpoint's.
const STATE_SQL = `
SELECT pg_is_in_recovery() AS in_recovery,
       CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END AS current_lsn,
       CASE WHEN pg_is_in_recovery() THEN NULL ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END AS primary_tli,
       (SELECT timeline_id FROM pg_control_checkpoint()) AS checkpoint_tli,
       pg_last_wal_receive_lsn()::text AS receive_lsn,
       pg_last_wal_replay_lsn()::text AS replay_lsn,
       CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() END AS replay_paused,
       r.status AS receiver_status,
       r.sender_host,
       r.received_tli
FROM (SELECT 1) AS one LEFT JOIN pg_stat_wal_receiver AS r ON true`;

interface StateRow {
  in_recovery: boolean;
  current_lsn: string | null;
  primary_tli: number | null;
  checkpoint_tli: number | null;
  receive_lsn: string | null;
  replay_lsn: string | null;
  replay_paused: boolean | null;
  receiver_status: string | null;
  sender_host: string | null;
  received_tli: number | null;
}

/** The host's role, timeline and WAL positions in one round trip; role `down` when its server does not answer. */
export async function databaseState(pool: HostPool, inventory: Inventory, host: string): Promise<DatabaseState> {
  const state = await askState(pool, inventory, host);
  sawState(pool, state);
  return state;
}

async function askState(pool: HostPool, inventory: Inventory, host: string): Promise<DatabaseState> {
  let rows: StateRow[];
  try {
    rows = await pgQuery<StateRow>(pool, inventory, host, STATE_SQL);
  } catch (error) {
    if (error instanceof DatabaseDownError) return downState(host);
    throw error;
  }
  const row = rows[0]!;
  if (!row.in_recovery) {
    return {
      host,
      role: 'primary',
      timeline: row.primary_tli,
      currentLsn: row.current_lsn,
      receiveLsn: null,
      replayLsn: null,
      replayPaused: null,
      upstreamAddress: null,
      streaming: false,
    };
  }
  return {
    host,
    role: 'replica',
    timeline: row.received_tli ?? row.checkpoint_tli,
    currentLsn: null,
    receiveLsn: row.receive_lsn,
    replayLsn: row.replay_lsn,
    replayPaused: row.replay_paused,
    upstreamAddress: row.sender_host,
    streaming: row.receiver_status === 'streaming',
  };
}

function downState(host: string): DatabaseState {
  return {
    host,
    role: 'down',
    timeline: null,
    currentLsn: null,
    receiveLsn: null,
    replayLsn: null,
    replayPaused: null,
    upstreamAddress: null,
    streaming: false,
  };
}
