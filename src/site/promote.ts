import { setTimeout as sleep } from 'node:timers/promises';
import type { Inventory } from '../inventory/schema.js';
import type { HostPool } from '../transports/pool.js';
import { pgQuery } from './postgres.js';

/** How often the promoted server is asked whether it left recovery (one round trip on the run's connection). */
const POLL_MS = 5;

/**
 * Promotes the replica on `host` and resolves once it runs read-write (true), or false when
 * it did not within `waitMs`. `pg_promote(true)` polls every 100 ms on the server, which
 * rounds every promotion up to a tenth of a second inside the outage; here the signal is
 * sent without waiting and `pg_is_in_recovery()` is asked every 5 ms instead.
 */
export async function promoteAndWait(pool: HostPool, inventory: Inventory, host: string, waitMs: number): Promise<boolean> {
  const [sent] = await pgQuery<{ signalled: boolean }>(pool, inventory, host, 'SELECT pg_promote(false) AS signalled');
  if (!sent?.signalled) return false;
  const deadline = performance.now() + waitMs;
  for (;;) {
    const [row] = await pgQuery<{ recovering: boolean }>(pool, inventory, host, 'SELECT pg_is_in_recovery() AS recovering');
    if (row && !row.recovering) return true;
    if (performance.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
}
