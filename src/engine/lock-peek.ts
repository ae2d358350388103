import { lstat } from 'node:fs/promises';
import type { RunContext } from './context.js';
import { CONTROL_MACHINE, controlLockDir, controlShell, hostLockDir } from './lock.js';
import { judgeLock } from './lock-judge.js';
import { describeOwner } from './lock-owner.js';
import { lookAt, peekScript } from './lock-probe.js';
import type { Transport } from '../transports/types.js';

/**
 * Dry runs take no lock, but say when another run holds one (and when it is stale). Where
 * nothing is at the lock's path, the look is one shell test on a host and no process at all
 * on the control machine; the full look (identity, owner's process) only runs for a lock.
 */
export async function warnAboutHeldLocks(run: RunContext): Promise<void> {
  const site = run.inventory.site;
  const warnIfHeld = async (where: string, transport: Transport, dir: string) => {
    const look = await lookAt(transport, dir, 5000, peekScript).catch(() => null);
    if (!look || 'failed' in look || look.lock !== 'held') return;
    const verdict = judgeLock(look);
    const judged = verdict.state === 'stale' ? ` (stale: ${verdict.reason}; \`mirrorctl unlock\` removes it)` : verdict.state === 'live' ? '' : ` (${verdict.reason})`;
    run.bus.notice({ level: 'warn', message: `site ${site} is locked on ${where} by ${describeOwner(look.owner)}${judged}` });
  };
  const here = controlLockDir(run.stateDir, site);
  const controlHasOne = await lstat(here).then(
    () => true,
    (error: NodeJS.ErrnoException) => error.code !== 'ENOENT',
  );
  if (controlHasOne) await warnIfHeld(CONTROL_MACHINE, controlShell(), here);
  const hosts = [...new Set(run.inventory.doc.database?.hosts ?? [])].sort();
  await Promise.all(
    hosts.map(async (host) => {
      const transport = await run.pool.get(host).catch(() => null);
      if (transport) await warnIfHeld(host, transport, hostLockDir(site));
    }),
  );
}
