import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '../errors.js';
import { alive } from '../engine/lock-owner.js';

// One `lab up`/`down` at a time per lab directory: test files and engineers may call
// ensureLab() concurrently. The lock is a sibling directory `DIR.lock` (DIR itself is
// removed by `lab down`), holding the owner's pid; a dead owner's lock is taken over.

/** Runs `work` holding the lab's lock, waiting up to `waitMs` for another holder. */
export async function withLabLock<T>(dir: string, work: () => Promise<T>, waitMs = 300_000): Promise<T> {
  const lockDir = `${dir}.lock`;
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      await mkdir(lockDir);
      await writeFile(`${lockDir}/pid`, String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number((await readFile(`${lockDir}/pid`, 'utf8').catch(() => '')).trim());
      if (owner > 0 && owner !== process.pid && !alive(owner)) {
        await rm(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new ConfigError(`Another mirrorctl lab command (pid ${owner || 'unknown'}) is working on ${dir}`, {
          hint: `wait for it, or remove ${lockDir} if that process is gone`,
        });
      }
      await sleep(owner ? 250 : 50);
    }
  }
  try {
    return await work();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}
