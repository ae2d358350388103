import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sh } from '../transports/quote.js';
import type { RunContext } from './context.js';
import { controlLockDir, hostLockDir } from './lock.js';
import { describeOwner, parseOwner } from './lock-owner.js';

/** Dry runs take no lock, but say when another run holds one. */
export async function warnAboutHeldLocks(run: RunContext): Promise<void> {
  const site = run.inventory.site;
  const control = await readFile(join(controlLockDir(run.stateDir, site), 'owner.json'), 'utf8').catch(() => null);
  if (control !== null) {
    run.bus.notice({ level: 'warn', message: `site ${site} is locked on the control machine by ${describeOwner(parseOwner(control))}` });
  }
  const hosts = [...new Set(run.inventory.doc.database?.hosts ?? [])].sort();
  await Promise.all(
    hosts.map(async (host) => {
      const transport = await run.pool.get(host).catch(() => null);
      if (!transport) return;
      const result = await transport.exec(sh`cat ${hostLockDir(site)}/owner.json 2>/dev/null`, { timeoutMs: 5000 }).catch(() => null);
      if (result && result.exitCode === 0 && result.stdout.trim()) {
        run.bus.notice({ level: 'warn', message: `site ${site} is locked on ${host} by ${describeOwner(parseOwner(result.stdout))}` });
      }
    }),
  );
}
