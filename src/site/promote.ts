import { setTimeout as sleep } from 'node:timers/promises';
import type { Inventory } from '../inventory/schema.js';
import { sh } from '../transports/quote.js';
import type { HostPool } from '../transports/pool.js';
import { pgQuery } from './postgres.js';
import { databaseSettings } from './postgres-server.js';

/** How often the promoted server is asked whether it left recovery (one round trip on the run's connection). */
const POLL_MS = 5;
/** After a withdrawal, how long a request the server had already taken may take to finish. */
const SETTLE_MS = 1000;

/**
 * promoted: the server runs read-write. withdrawn: it did not leave recovery in time and
 * the request was taken back before the server acted on it, so it will not promote itself
 * later. standing: it did not, and the request could not be taken back. not-sent: pg_promote
 * could not signal the server.
 */
export type PromoteOutcome = 'promoted' | 'withdrawn' | 'standing' | 'not-sent';

/**
 * Promotes the replica on `host` and waits up to `waitMs` for it to run read-write.
 * `pg_promote(true)` polls every 100 ms on the server, which rounds every promotion up to a
 * tenth of a second inside the outage; here the signal is sent without waiting and
 * `pg_is_in_recovery()` is asked every 5 ms instead. A promotion that stalls (a startup
 * process that does not run, WAL still to replay) is withdrawn: the `promote` file that
 * pg_promote left in the data directory is removed, so the replica does not promote itself
 * later, behind the operator's back.
 */
export async function promoteAndWait(pool: HostPool, inventory: Inventory, host: string, waitMs: number): Promise<PromoteOutcome> {
  const [sent] = await pgQuery<{ signalled: boolean }>(pool, inventory, host, 'SELECT pg_promote(false) AS signalled');
  if (!sent?.signalled) return 'not-sent';
  if (await leftRecovery(pool, inventory, host, waitMs, POLL_MS)) return 'promoted';
  const withdrawn = await withdraw(pool, inventory, host);
  // The server may have taken the request just before it was removed: that promotion finishes.
  if (await leftRecovery(pool, inventory, host, SETTLE_MS, 50)) return 'promoted';
  return withdrawn ? 'withdrawn' : 'standing';
}

/** The path of the request pg_promote writes (PostgreSQL 12 and later). */
export function promoteRequestFile(inventory: Inventory): string {
  return `${databaseSettings(inventory).data_dir.replace(/\/+$/, '')}/promote`;
}

async function leftRecovery(pool: HostPool, inventory: Inventory, host: string, waitMs: number, everyMs: number): Promise<boolean> {
  const deadline = performance.now() + waitMs;
  for (;;) {
    const [row] = await pgQuery<{ recovering: boolean }>(pool, inventory, host, 'SELECT pg_is_in_recovery() AS recovering');
    if (row && !row.recovering) return true;
    if (performance.now() >= deadline) return false;
    await sleep(everyMs);
  }
}

/** Removes the pending request; true when it was there and is gone (the server had not acted on it). */
async function withdraw(pool: HostPool, inventory: Inventory, host: string): Promise<boolean> {
  const file = promoteRequestFile(inventory);
  const transport = await pool.get(host);
  const result = await transport.exec(sh`if [ -e ${file} ]; then rm -f ${file} && echo withdrawn; else echo absent; fi`, { timeoutMs: 10_000 }).catch(() => null);
  return result?.exitCode === 0 && result.stdout.trim() === 'withdrawn';
}
