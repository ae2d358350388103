import { StepFailedError } from '../errors.js';
import type { Transport } from '../transports/types.js';
import { runService, type DatabaseSettings } from './postgres-server.js';
import { removeStalePidFile, settledPostmaster } from './postmaster.js';

/**
 * Stops the host's server with the operator's stop command and leaves it stopped, a crashed
 * one without its stale postmaster.pid; says which ("stopped web1" or "web1 was stopped").
 * A crashed server may still be settling (children exiting, crash recovery): it waits for it.
 */
export async function stopServer(transport: Transport, database: DatabaseSettings, host: string, timeoutMs: number): Promise<string> {
  const before = await settledPostmaster(transport, database, timeoutMs);
  const wasRunning = before === 'running';
  if (wasRunning) await runService(transport, database, 'stop', timeoutMs);
  // Asked again only after a stop: a settled server that was not running has not changed.
  const after = wasRunning ? await settledPostmaster(transport, database, timeoutMs) : before;
  if (after === 'running') {
    throw new StepFailedError(`PostgreSQL on ${host} still runs after \`${database.service.stop}\``, { hint: `stop it by hand, then run again` });
  }
  if (after === 'crashed') await removeStalePidFile(transport, database, timeoutMs);
  return wasRunning ? `stopped ${host}` : `${host} was stopped`;
}
