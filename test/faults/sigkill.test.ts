// mirrorctl itself killed with SIGKILL at every step boundary of switchover and failover,
// under a writer through the portable IP and a watcher of who holds it. After each kill:
// the next run names the stale lock (owner, pid), `unlock -y` removes it, the same command
// completes, the site is served by exactly one host whose database is the primary, no
// acknowledged write is missing, and the IP was never on two live hosts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureLab, type LabHostName, type TestLab } from '../helpers/lab.js';
import { labCli } from '../helpers/site-state.js';
import {
  events,
  expectNoWriteLost,
  expectServedBy,
  runWithFault,
  startWriter,
  totals,
  watchPortableIp,
  whenIpLeaves,
  wholeSite,
  type FaultPoint,
} from './harness.js';

const SWITCHOVER_BOUNDARIES = ['sync-files', 'fence-sessions', 'stop-old', 'fence-ip', 'wait-replay', 'promote', 'sessions-rw', 'move-ip', 'flush-cache', 'sync-files-final', 'rejoin-old'];
const FAILOVER_BOUNDARIES = ['fence-sessions', 'fence-ip', 'stop-old', 'wait-replay', 'sync-files', 'promote', 'sessions-ro', 'sessions-rw', 'move-ip', 'flush-cache'];

let lab: TestLab;

beforeAll(async () => {
  lab = await ensureLab();
});

afterAll(() => {
  process.stderr.write(`fault suite (SIGKILL): ${JSON.stringify(totals)}\n`);
});

/** One case: kill the run at `when` (by default, after step `when`), then the stale lock, unlock, the same command, and the checks. */
async function killAndResume(command: 'switchover' | 'failover', when: string | ((from: LabHostName, to: LabHostName) => FaultPoint)): Promise<void> {
  const site = await wholeSite();
  lab = site.lab;
  const { from, to } = site;
  const writer = startWriter(lab);
  const watch = watchPortableIp(lab);
  try {
    const point = typeof when === 'string' ? when : when(from, to);
    const killed = await runWithFault(lab, [command, '--to', to, '--yes'], point, (child) => {
      child.kill('SIGKILL');
    });
    expect(killed.faulted, `the fault point was never reached: ${killed.stderr}`).toBe(true);
    expect(killed.code).toBeNull();

    const blocked = await labCli(lab, [command, '--to', to, '--yes']);
    expect(blocked.code, blocked.stderr).toBe(4);
    expect(blocked.stderr).toMatch(/locked on .* by run \S+ \(.*pid \d+.*\).*stale/);

    const unlock = await labCli(lab, ['unlock', '-y']);
    expect(unlock.code, unlock.stdout + unlock.stderr).toBe(0);

    const resumed = await labCli(lab, [command, '--to', to, '--yes', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(events(resumed.stdout).at(-1)).toMatchObject({ event: 'run.end', outcome: 'succeeded' });
    if (command === 'failover') {
      const rejoin = await labCli(lab, ['rejoin', from, '--yes']);
      expect(rejoin.code, rejoin.stderr).toBe(0);
    }
  } finally {
    const written = await writer.stop();
    const watched = await watch.stop();
    totals.runs += 4;
    totals.faults += 1;
    totals.acked += written.acked.length;
    expect(watched.split, watched.split.join('\n')).toEqual([]);
    await expectNoWriteLost(lab, to, written.acked);
  }
  await expectServedBy(lab, to);
}

describe('mirrorctl killed with SIGKILL at every step boundary', () => {
  for (const step of SWITCHOVER_BOUNDARIES) {
    it(`switchover, killed after ${step}: stale lock named, unlock, the same command completes`, async () => {
      await killAndResume('switchover', step);
    });
  }
  for (const step of FAILOVER_BOUNDARIES) {
    it(`failover, killed after ${step}: stale lock named, unlock, the same command completes, rejoin`, async () => {
      await killAndResume('failover', step);
    });
  }
});

/** The run-phase check of `step` was printed: its apply is under way. */
const applying = (step: string): FaultPoint => ({ event: (e) => e.event === 'step.check' && e.phase === 'run' && e.step === step });

describe('mirrorctl killed with SIGKILL inside the longest steps', () => {
  for (const step of ['wait-replay', 'promote']) {
    for (const command of ['switchover', 'failover'] as const) {
      it(`${command}, killed while ${step} applies: stale lock named, unlock, the same command completes`, async () => {
        await killAndResume(command, () => applying(step));
      });
    }
  }
  it('switchover, killed inside fence-ip the moment the address left the old primary (on no host until move-ip): the same command completes', async () => {
    await killAndResume('switchover', (from) => whenIpLeaves(lab, from));
  });
  for (const command of ['switchover', 'failover'] as const) {
    it(`${command}, killed while move-ip applies: the same command completes`, async () => {
      await killAndResume(command, () => applying('move-ip'));
    });
  }
});
