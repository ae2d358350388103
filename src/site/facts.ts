import type { HostPool } from '../transports/pool.js';
import type { DatabaseState } from './database-state-type.js';
import { PerRun } from './per-run.js';
import type { ControlData } from './postgres-server.js';

// What this run saw of the databases, in order, kept for the run's pool: every
// state a query returned, every pg_controldata read, every promotion. The data-loss
// verdict (spec 10) is judged from these and from the site as it ends.

/** One observation, with when it was made (epoch ms). */
export type SiteFact =
  | { kind: 'state'; at: number; host: string; state: DatabaseState }
  | { kind: 'control'; at: number; host: string; control: ControlData }
  | { kind: 'promoted'; at: number; host: string };

const facts = new PerRun<SiteFact[]>(() => []);

/** This run's list of facts (created on first use). */
export function siteFacts(pool: HostPool): SiteFact[] {
  return facts.of(pool);
}

/** Records a database state a query returned. */
export function sawState(pool: HostPool, state: DatabaseState): void {
  siteFacts(pool).push({ kind: 'state', at: Date.now(), host: state.host, state });
}

/** Records what pg_controldata said on a host. */
export function sawControl(pool: HostPool, host: string, control: ControlData): void {
  siteFacts(pool).push({ kind: 'control', at: Date.now(), host, control });
}

/** Records that this run promoted `host`. */
export function sawPromotion(pool: HostPool, host: string): void {
  siteFacts(pool).push({ kind: 'promoted', at: Date.now(), host });
}
