// Finds a site's locks on the control machine and on every host, each read and judged
// where it lives (one round trip per host), for `mirrorctl unlock`.
import type { Inventory } from '../inventory/schema.js';
import type { HostPool } from '../transports/pool.js';
import type { Transport } from '../transports/types.js';
import { CONTROL_MACHINE, controlLockDir, controlShell, hostLockDir } from './lock.js';
import { judgeFromControl, judgeLock, type LockVerdict } from './lock-judge.js';
import { lookAt, removeScript, type LockLook } from './lock-probe.js';
import { processSeen, thisMachine } from './machine-identity.js';

export interface FoundLock {
  /** A host's name, or CONTROL_MACHINE. */
  where: string;
  host: string | null;
  path: string;
  look: LockLook;
  verdict: LockVerdict;
  /** Removes it while it is still the lock that was read: 'removed' (or already gone) or 'changed'. */
  remove(): Promise<'removed' | 'changed'>;
}

export interface LockSurvey {
  locks: FoundLock[];
  /** Places whose lock could not be read, and why. */
  unanswered: Array<{ where: string; why: string }>;
}

/** Reads the site's lock on the control machine and on every inventory host, in parallel. */
export async function surveyLocks(inventory: Inventory, stateDir: string, pool: HostPool): Promise<LockSurvey> {
  const survey: LockSurvey = { locks: [], unanswered: [] };
  const site = inventory.site;
  const places = [
    { where: CONTROL_MACHINE, host: null, path: controlLockDir(stateDir, site), transport: Promise.resolve(controlShell()) },
    ...[...inventory.hosts.keys()].sort().map((name) => ({ where: name, host: name, path: hostLockDir(site), transport: pool.get(name) })),
  ];
  const found = await Promise.all(
    places.map(async (place) => {
      const transport = await place.transport.catch((error: Error) => error);
      if (transport instanceof Error) return { where: place.where, why: transport.message };
      const look = await lookAt(transport, place.path);
      if ('failed' in look) return { where: place.where, why: look.failed };
      if (look.lock === 'absent') return null;
      if (look.lock === 'not-a-directory') return { where: place.where, why: `${place.path} is not a directory (not a lock mirrorctl made): remove it by hand` };
      return foundLock(place.where, place.host, place.path, look, transport);
    }),
  );
  for (const item of found) {
    if (item === null) continue;
    if ('why' in item) survey.unanswered.push(item);
    else survey.locks.push(item);
  }
  return survey;
}

async function foundLock(where: string, host: string | null, path: string, look: LockLook, transport: Transport): Promise<FoundLock> {
  return {
    where,
    host,
    path,
    look,
    verdict: await judgeHere(look),
    async remove() {
      const result = await transport.exec(removeScript(look, path), { timeoutMs: 10_000 });
      if (result.exitCode !== 0) throw new Error(`could not remove ${path} on ${where}: ${result.stderr.trim() || `exit ${result.exitCode}`}`);
      return result.stdout.trim() === 'changed' ? 'changed' : 'removed';
    },
  };
}

/** Judged where the lock lives; a lock its host cannot judge is judged again here when its owner ran on this control machine. */
async function judgeHere(look: LockLook): Promise<LockVerdict> {
  const verdict = judgeLock(look);
  const pid = look.owner?.pid;
  if (verdict.state !== 'unjudged' || typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return verdict;
  return judgeFromControl(look, { here: await thisMachine(), process: await processSeen(pid) });
}
