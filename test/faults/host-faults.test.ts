// Faults of the site during a switchover, at the three boundaries around the outage
// (before stop-old, between promote and move-ip, after move-ip): the old primary's host
// crashes, one memcached server goes down, the target's SSH connection drops. Each run
// either completes with the site served by one host whose database is the primary, or
// exits (never hangs) non-zero with one sentence naming what to do, and doing exactly
// that completes. A writer and a watcher of the portable IP run throughout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/lab/exec.js';
import { ensureLab, type TestLab } from '../helpers/lab.js';
import { inRecovery, labCli, streamsFrom } from '../helpers/site-state.js';
import {
  HOSTS,
  adviceOf,
  events,
  expectNoWriteLost,
  expectServedBy,
  liveHolders,
  primaryOf,
  runWithFault,
  startWriter,
  totals,
  watchPortableIp,
} from './harness.js';

const AROUND_THE_OUTAGE = ['fence-sessions', 'promote', 'move-ip'];

let lab: TestLab;

beforeAll(async () => {
  lab = await ensureLab();
});

afterAll(() => {
  process.stderr.write(`fault suite (site faults): ${JSON.stringify(totals)}\n`);
});

interface Case {
  /** Injects the fault (the run is still going). */
  inject(from: string, to: string): Promise<void>;
  /** What an operator does about the cause before following mirrorctl's advice. */
  mend?(from: string, to: string): Promise<void>;
  /** The fault cuts the old primary's host off (it is brought back afterwards, as after a reboot). */
  cutsFrom?: boolean;
  /** Whether the old primary shut down cleanly before the fault, so no acknowledged write may be missing. */
  cleanShutdown(step: string): boolean;
}

async function faultDuringSwitchover(step: string, fault: Case): Promise<void> {
  lab = await ensureLab({ anyState: true });
  // Whatever an earlier case left (it may have failed half-way): a whole site, no lock.
  if ((await primaryOf(lab)) === null || (await liveHolders(lab)).length !== 1) lab = await ensureLab();
  await labCli(lab, ['unlock', '-y']);
  const from = (await primaryOf(lab))!;
  const to = HOSTS.find((h) => h !== from)!;
  const writer = startWriter(lab);
  const watch = watchPortableIp(lab);
  let written: { acked: number[] } = { acked: [] };
  let watched: { split: string[] } = { split: [] };
  try {
    const first = await runWithFault(lab, ['switchover', '--to', to, '--yes'], step, () => fault.inject(from, to));
    expect(first.faulted, `step ${step} never ended`).toBe(true);
    // The process always exits by itself (runWithFault kills it only after 150 s: code null).
    expect(first.code, first.stderr).not.toBeNull();
    totals.runs += 1;
    totals.faults += 1;
    if (first.code !== 0) {
      expect(events(first.stdout).at(-1)).toMatchObject({ event: 'run.end' });
      const followed = adviceOf(first.stderr);
      expect(followed, first.stderr).not.toBeNull();
      await fault.mend?.(from, to);
      // A lock the run could not give back (the host stopped answering) is named, with what to do.
      if (/`mirrorctl unlock -y` removes it/.test(first.stderr)) {
        const unlock = await labCli(lab, ['unlock', '-y']);
        // 4 only for a host that is still gone (a crashed one: its /run is cleared when it boots).
        if (unlock.code !== 0) expect(unlock.stdout + unlock.stderr).toMatch(/did not answer|does not answer/);
      }
      const next = await labCli(lab, [...followed!.filter((w) => w !== '--yes'), '--yes']);
      totals.runs += 1;
      expect(next.code, `first run: ${first.stderr}\nthen ${followed!.join(' ')}: ${next.stderr}`).toBe(0);
    }
    expect(await liveHolders(lab)).toEqual([to]);
    expect(await inRecovery(lab, to)).toBe(false);
  } finally {
    written = await writer.stop();
    watched = await watch.stop();
    totals.acked += written.acked.length;
    // The old host back as after a reboot, so the next case starts whole whatever happened here.
    if (fault.cutsFrom) await lab.restore(from as 'web1' | 'web2');
  }
  expect(watched.split, watched.split.join('\n')).toEqual([]);
  if (fault.cleanShutdown(step)) await expectNoWriteLost(lab, to, written.acked);
  // The old primary rejoins as a replica of the new one, as the operator would do next.
  if ((await streamsFrom(lab, from).catch(() => null)) !== lab.addresses[to]) {
    const rejoin = await labCli(lab, ['rejoin', from, '--yes']);
    expect(rejoin.code, rejoin.stderr).toBe(0);
  }
  await expectServedBy(lab, to);
}

describe('the old primary host crashes during a switchover', () => {
  for (const step of AROUND_THE_OUTAGE) {
    it(`after ${step}: the run exits, its advice completes the move`, async () => {
      await faultDuringSwitchover(step, {
        inject: async (from) => {
          await lab.cut(from as 'web1' | 'web2');
        },
        cutsFrom: true,
        // Before stop-old the old primary dies uncleanly: with asynchronous replication an
        // acknowledged write may not have reached the replica (spec 10); after it, none may be lost.
        cleanShutdown: (s) => s !== 'fence-sessions',
      });
    });
  }
});

describe('one memcached server goes down during a switchover', () => {
  for (const step of AROUND_THE_OUTAGE) {
    it(`after ${step}: the run says which server; once it is started, the advice completes the move`, async () => {
      await faultDuringSwitchover(step, {
        inject: async (from) => {
          await lab.hostExec(from as 'web1' | 'web2', 'kill "$(cat /run/memcached/memcached.pid)"');
        },
        mend: async (from) => {
          const { ensureMemcached } = await import('../../src/lab/memcached.js');
          const { labNames } = await import('../../src/lab/paths.js');
          await ensureMemcached(labNames(lab.dir), lab.state, from as 'web1' | 'web2');
        },
        cleanShutdown: () => true,
      });
      // Whatever happened, memcached runs again on both hosts for the next case.
      const { ensureMemcached } = await import('../../src/lab/memcached.js');
      const { labNames } = await import('../../src/lab/paths.js');
      for (const host of HOSTS) await ensureMemcached(labNames(lab.dir), lab.state, host);
    });
  }
});

describe("the target's SSH connection drops during a switchover (every sshd process killed, sshd restarted)", () => {
  for (const step of AROUND_THE_OUTAGE) {
    it(`after ${step}: the run exits, its advice completes the move`, async () => {
      await faultDuringSwitchover(step, {
        inject: async (_from, to) => {
          // Every sshd of the host (the listener and each connection's), found by its network namespace.
          await run('/bin/sh', ['-c', `for p in $(ip netns pids ${lab.netns[to as 'web1' | 'web2']}); do [ "$(cat /proc/$p/comm 2>/dev/null)" = sshd ] && kill -KILL $p; done; true`]);
          await lab.hostExec(to as 'web1' | 'web2', 'rm -f /run/sshd.pid');
          const { ensureSshd } = await import('../../src/lab/sshd.js');
          const { labNames } = await import('../../src/lab/paths.js');
          await ensureSshd(labNames(lab.dir), to as 'web1' | 'web2');
        },
        cleanShutdown: () => true,
      });
    });
  }
});
