// The fault suite's instruments: a run with a fault injected when a step ends, a writer
// through the portable IP, and a watcher that samples who holds the portable IP on a live
// link. Everything is read from the lab itself, never from mirrorctl's own output.
import type { ChildProcess } from 'node:child_process';
import { expect } from 'vitest';
import { run } from '../../src/lab/exec.js';
import { events, runCli, type CliResult } from '../helpers/cli.js';
import type { LabHostName, TestLab } from '../helpers/lab.js';
import { inRecovery, ipOn, psql, startWriter, streamsFrom } from '../helpers/site-state.js';

export const HOSTS: LabHostName[] = ['web1', 'web2'];

/** `mirrorctl ARGS` on the lab; `fault` runs once, as soon as step `afterStep` has ended. */
export async function runWithFault(
  lab: TestLab,
  args: string[],
  afterStep: string | null,
  fault: (child: ChildProcess) => Promise<void> | void,
): Promise<CliResult & { faulted: boolean }> {
  let faulted = false;
  const result = await runCli([...args, '--json', '-c', lab.inventory, '--state-dir', `${lab.dir}/state`], {
    timeoutMs: 150_000,
    onSpawn: (child) => {
      let buffered = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        const ended = lines.some((line) => line.includes('"event":"step.end"') && line.includes(`"step":"${afterStep}"`));
        if (ended && !faulted) {
          faulted = true;
          void fault(child);
        }
      });
    },
  });
  return { ...result, faulted };
}

/** The command the run's last words say to run next (the first backquoted `mirrorctl …`), without its `-c`. */
export function adviceOf(stderr: string): string[] | null {
  const found = /`(mirrorctl (?:failover|switchover|rejoin)[^`]*)`/.exec(stderr)?.[1];
  if (!found) return null;
  const words = found.split(/\s+/).slice(1);
  const c = words.indexOf('-c');
  if (c >= 0) words.splice(c, 2);
  return words;
}

export interface IpWatch {
  stop(): Promise<{ samples: number; split: string[] }>;
}

/** Hosts that have the portable IP on any interface while their link is up (a cut host's address answers nobody). */
export async function liveHolders(lab: TestLab): Promise<LabHostName[]> {
  const live = await Promise.all(
    HOSTS.map(async (host) => {
      const [addresses, link] = await Promise.all([
        run('ip', ['-n', lab.netns[host], '-o', '-4', 'addr', 'show']),
        run('ip', ['-o', 'link', 'show', lab.veth[host]]),
      ]);
      const holds = addresses.stdout.split(/\s+/).some((word) => word.split('/')[0] === lab.portableIp);
      return holds && /[<,]UP[,>]/.test(link.stdout) && !/NO-CARRIER/.test(link.stdout);
    }),
  );
  return HOSTS.filter((_, i) => live[i]);
}

/** Samples, every 200 ms, which hosts have the portable IP on an interface whose link is up. */
export function watchPortableIp(lab: TestLab): IpWatch {
  let running = true;
  let samples = 0;
  const split: string[] = [];
  const loop = (async () => {
    const deadline = Date.now() + 300_000;
    while (running && Date.now() < deadline) {
      const live = await liveHolders(lab);
      samples += 1;
      if (live.length > 1) split.push(`${new Date().toISOString()} ${live.join('+')}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { samples, split };
    },
  };
}

/** The site's database primary now (the host not in recovery), or null. */
export async function primaryOf(lab: TestLab): Promise<LabHostName | null> {
  const roles = await Promise.all(HOSTS.map((h) => inRecovery(lab, h).catch(() => null)));
  const primaries = HOSTS.filter((_, i) => roles[i] === false);
  return primaries.length === 1 ? primaries[0]! : null;
}

/** The outcome every fault must end in: one host holds the IP and is the primary; the other streams from it. */
export async function expectServedBy(lab: TestLab, host: LabHostName): Promise<void> {
  expect(await ipOn(lab)).toEqual([host]);
  expect(await inRecovery(lab, host)).toBe(false);
  const other = HOSTS.find((h) => h !== host)!;
  expect(await streamsFrom(lab, other)).toBe(lab.addresses[host]);
}

/** Every acknowledged write is on `primary`. */
export async function expectNoWriteLost(lab: TestLab, primary: LabHostName, acked: number[]): Promise<void> {
  expect(acked.length).toBeGreaterThan(0);
  const present = Number(await psql(lab, primary, `select count(*) from writes where id in (${acked.join(',')})`));
  expect(present).toBe(acked.length);
}

export { events, startWriter };

/** Totals across the suite, printed at the end (README "Reliability" quotes them). */
export const totals = { runs: 0, faults: 0, acked: 0, lost: 0, splitSamples: 0, samples: 0 };
