import { setTimeout as sleep } from 'node:timers/promises';
import { run } from './exec.js';

// The processes of a lab node are exactly those in its network namespace.

/** Pids of every process in a network namespace (none when it does not exist). */
export async function netnsPids(netns: string): Promise<number[]> {
  const result = await run('ip', ['netns', 'pids', netns]);
  if (result.exitCode !== 0) return [];
  return result.stdout.split(/\s+/).filter(Boolean).map(Number).filter((pid) => pid > 0 && pid !== process.pid);
}

/** Kills (SIGKILL) every process in a network namespace and returns only once none is left (bounded: 30 s, then it throws). */
export async function killNetns(netns: string): Promise<number[]> {
  const killed = new Set<number>();
  for (let round = 0; ; round += 1) {
    const pids = await netnsPids(netns);
    if (pids.length === 0) break;
    if (round >= 300) throw new Error(`processes ${pids.join(', ')} in network namespace ${netns} survive SIGKILL (stuck in the kernel?)`);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
        killed.add(pid);
      } catch {
        // already gone
      }
    }
    await sleep(100);
  }
  return [...killed];
}
