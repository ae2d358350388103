import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AbortedError, RefusedError } from '../errors.js';
import { loadInventory } from '../inventory/load.js';
import { controlLockDir, hostLockDir } from '../engine/lock.js';
import { describeOwner, parseOwner } from '../engine/lock-owner.js';
import { resolveStateDir } from '../engine/state-dir.js';
import { HostPool } from '../transports/pool.js';
import { sh } from '../transports/quote.js';
import { inventoryPath, type CommonOptions } from './options.js';
import { terminalPrompter } from './prompter.js';

interface FoundLock {
  where: string;
  path: string;
  owner: string;
  remove(): Promise<void>;
}

/** `mirrorctl unlock [-y]`: find site locks on the control machine and the hosts, confirm, remove. */
export async function unlockCommand(options: CommonOptions): Promise<number> {
  const inventory = await loadInventory(inventoryPath(options));
  const site = inventory.site;
  const found: FoundLock[] = [];
  const controlDir = controlLockDir(resolveStateDir(options.stateDir), site);
  const control = await readFile(join(controlDir, 'owner.json'), 'utf8').catch(() => null);
  const controlExists = control !== null || (await readFile(controlDir).catch((e: NodeJS.ErrnoException) => e.code) === 'EISDIR');
  if (controlExists) {
    found.push({ where: 'control machine', path: controlDir, owner: describeOwner(parseOwner(control ?? '')), remove: () => rm(controlDir, { recursive: true, force: true }) });
  }
  const pool = new HostPool(inventory);
  try {
    const names = [...inventory.hosts.keys()].sort();
    const dir = hostLockDir(site);
    const perHost = await Promise.all(
      names.map(async (name) => {
        const host = await pool.get(name).catch((error: Error) => {
          process.stderr.write(`warning: ${name}: ${error.message}; its lock (if any) was not checked\n`);
          return null;
        });
        if (!host) return null;
        const r = await host.exec(sh`if [ -d ${dir} ]; then echo held; cat ${dir}/owner.json 2>/dev/null; fi`, { timeoutMs: 10_000 });
        if (!r.stdout.startsWith('held')) return null;
        const lock: FoundLock = {
          where: name,
          path: dir,
          owner: describeOwner(parseOwner(r.stdout.slice(5))),
          remove: async () => void (await host.exec(sh`rm -rf ${dir}`, { timeoutMs: 10_000 })),
        };
        return lock;
      }),
    );
    found.push(...perHost.filter((l): l is FoundLock => l !== null));
    if (found.length === 0) {
      process.stdout.write(`no locks held for site ${site}\n`);
      return 0;
    }
    for (const lock of found) process.stdout.write(`${lock.where}: ${lock.path} held by ${lock.owner}\n`);
    if (!options.yes) {
      if (!(process.stdin.isTTY && process.stderr.isTTY)) throw new RefusedError('unlock needs confirmation and no terminal can give it', { hint: 'rerun with -y once you are sure the holder is gone' });
      const ok = await terminalPrompter().confirm(`Remove ${found.length} lock(s) of site ${site}? Only do this when the run holding them is gone`);
      if (!ok) throw new AbortedError('declined; no lock was removed');
    }
    for (const lock of found) await lock.remove();
    process.stdout.write(`removed ${found.length} lock(s) of site ${site}\n`);
    return 0;
  } finally {
    await pool.closeAll();
  }
}
