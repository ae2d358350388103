import type { RunContext } from './context.js';
import { CONTROL_MACHINE, controlLockDir, controlShell, hostLockDir } from './lock.js';
import { judgeLock } from './lock-judge.js';
import { describeOwner } from './lock-owner.js';
import { lookAt } from './lock-probe.js';
import type { Transport } from '../transports/types.js';

/** Dry runs take no lock, but say when another run holds one (and when it is stale). */
export async function warnAboutHeldLocks(run: RunContext): Promise<void> {
  const site = run.inventory.site;
  const warnIfHeld = async (where: string, transport: Transport, dir: string) => {
    const look = await lookAt(transport, dir, 5000).catch(() => null);
    if (!look || 'failed' in look || look.lock !== 'held') return;
    const verdict = judgeLock(look);
    const judged = verdict.state === 'stale' ? ` (stale: ${verdict.reason}; \`mirrorctl unlock\` removes it)` : verdict.state === 'live' ? '' : ` (${verdict.reason})`;
    run.bus.notice({ level: 'warn', message: `site ${site} is locked on ${where} by ${describeOwner(look.owner)}${judged}` });
  };
  await warnIfHeld(CONTROL_MACHINE, controlShell(), controlLockDir(run.stateDir, site));
  const hosts = [...new Set(run.inventory.doc.database?.hosts ?? [])].sort();
  await Promise.all(
    hosts.map(async (host) => {
      const transport = await run.pool.get(host).catch(() => null);
      if (transport) await warnIfHeld(host, transport, hostLockDir(site));
    }),
  );
}
