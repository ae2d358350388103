// Faults of the site during a switchover, at the three boundaries around the outage
// (before stop-old, between promote and move-ip, after move-ip): the old primary's host
// crashes, one memcached server goes down, the target's SSH connection drops; and the
// target's promotion stalls past the promote step's timeout (inside promote). Each run
// either completes with the site served by one host whose database is the primary, or
// exits (never hangs) non-zero with one sentence naming what to do, and doing exactly
// that completes. A writer and a watcher of the portable IP run throughout.
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLED_PLAYBOOKS_DIR } from '../../src/playbook/locate.js';
import { run } from '../../src/lab/exec.js';
import { ensureLab, type TestLab } from '../helpers/lab.js';
import { inRecovery, labCli, psql, streamsFrom } from '../helpers/site-state.js';
import {
  adviceOf,
  AROUND_THE_OUTAGE,
  events,
  expectNoWriteLost,
  expectServedBy,
  HOSTS,
  liveHolders,
  runWithFault,
  startWriter,
  totals,
  watchPortableIp,
  wholeSite,
} from './harness.js';

let lab: TestLab;

beforeAll(async () => {
  lab = await ensureLab();
});

afterAll(() => {
  process.stderr.write(`fault suite (site faults): ${JSON.stringify(totals)}\n`);
});

interface Case {
  /** Injects the fault (the run is still going: `child` is mirrorctl). */
  inject(from: string, to: string, child: ChildProcess): Promise<void>;
  /** What an operator does about the cause before following mirrorctl's advice. */
  mend?(from: string, to: string): Promise<void>;
  /** The fault cuts the old primary's host off (it is brought back afterwards, as after a reboot). */
  cutsFrom?: boolean;
  /** Whether the old primary shut down cleanly before the fault, so no acknowledged write may be missing. */
  cleanShutdown(step: string): boolean;
  /** Another inventory for mirrorctl's runs (its directory's playbooks/ come before the bundled ones). */
  inventory?: string;
  /** What the first run must say (it must have failed). */
  expectStderr?: RegExp;
}

async function faultDuringSwitchover(step: string, fault: Case): Promise<void> {
  const site = await wholeSite();
  lab = site.lab;
  const { from, to } = site;
  const writer = startWriter(lab);
  const watch = watchPortableIp(lab);
  let written: { acked: number[] } = { acked: [] };
  let watched: { split: string[] } = { split: [] };
  try {
    const first = await runWithFault(lab, ['switchover', '--to', to, '--yes'], step, (child) => fault.inject(from, to, child), fault.inventory);
    expect(first.faulted, `step ${step} never ended`).toBe(true);
    // The process always exits by itself (runWithFault kills it only after 150 s: code null).
    expect(first.code, first.stderr).not.toBeNull();
    totals.runs += 1;
    totals.faults += 1;
    if (fault.expectStderr) expect(first.stderr).toMatch(fault.expectStderr);
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
      const next = await labCli(lab, [...followed!.filter((w) => w !== '--yes'), '--yes'], fault.inventory);
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

describe("the target's promotion stalls past the step's timeout (its startup process stopped)", () => {
  it('the request is withdrawn, the run exits saying so; once the process runs again, the advice completes the move', async () => {
    // The bundled switchover with a 3 s promote timeout (60 s as shipped), beside a copy of the inventory.
    const dir = mkdtempSync(join(tmpdir(), 'mirrorctl-stall-'));
    mkdirSync(join(dir, 'playbooks'));
    const inventory = join(dir, 'mirrorctl.yaml');
    copyFileSync(lab.inventory, inventory);
    const bundled = readFileSync(join(BUNDLED_PLAYBOOKS_DIR, 'switchover.yaml'), 'utf8');
    const shortened = bundled.replace(/(action: postgres\.promote\n(?:.*\n)*?\s+timeout: )60s/, '$13s');
    expect(shortened).not.toBe(bundled);
    writeFileSync(join(dir, 'playbooks', 'switchover.yaml'), shortened);
    const DATA = '/var/lib/postgresql/15/main';
    // The startup process stopped (set once, inside inject), so that it is resumed whatever happens.
    const stalled: { host: 'web1' | 'web2'; pid: string }[] = [];
    try {
      await faultDuringSwitchover('fence-sessions', {
        inventory,
        // The replica's startup process must be stopped after it replayed the old primary's
        // last record (or wait-replay, not promote, would stall) and before the promote
        // request. So mirrorctl is held (SIGSTOP) from the end of fence-sessions; meanwhile the
        // old primary is stopped by its own service script (mirrorctl's stop-old then finds it
        // stopped cleanly) and the replica replays its shutdown checkpoint; then it is let go.
        inject: async (from, to, child) => {
          child.kill('SIGSTOP');
          try {
            const target = to as 'web1' | 'web2';
            const stop = await lab.hostExec(from as 'web1' | 'web2', '/srv/lab/bin/wiki-pg-stop');
            expect(stop.exitCode, stop.stderr).toBe(0);
            let last = '';
            for (let tries = 0; tries < 200; tries += 1) {
              const down = (await lab.hostExec(from as 'web1' | 'web2', `test -e ${DATA}/postmaster.pid && echo up || echo down`)).stdout.trim() === 'down';
              const lsns = await psql(lab, target, 'select pg_last_wal_receive_lsn() || \' \' || pg_last_wal_replay_lsn()');
              const [received, replayed] = lsns.split(' ');
              if (down && received === replayed && lsns === last) break;
              last = down && received === replayed ? lsns : '';
              await new Promise((resolve) => setTimeout(resolve, 100));
            }
            expect(last, 'the old primary stopped and the replica replayed all it received').not.toBe('');
            const pid = (await lab.hostExec(target, `ps -o pid=,args= --ppid "$(head -n 1 ${DATA}/postmaster.pid)" | awk '/startup/ { print $1 }'`)).stdout.trim();
            expect(pid).toMatch(/^\d+$/);
            await lab.hostExec(target, `kill -STOP ${pid}`);
            stalled.push({ host: target, pid });
          } finally {
            child.kill('SIGCONT');
          }
        },
        mend: async (_from, to) => {
          // Running again, the startup process would act on a request left behind: none is.
          expect(stalled).toHaveLength(1);
          for (const { host, pid } of stalled) await lab.hostExec(host, `kill -CONT ${pid}`);
          await new Promise((resolve) => setTimeout(resolve, 1000));
          expect(await inRecovery(lab, to as 'web1' | 'web2')).toBe(true);
          expect((await lab.hostExec(to as 'web1' | 'web2', `test -e ${DATA}/promote && echo present || echo absent`)).stdout.trim()).toBe('absent');
        },
        expectStderr: /did not leave recovery within 3 s of pg_promote; the request was withdrawn/,
        cleanShutdown: () => true,
      });
    } finally {
      for (const { host, pid } of stalled) await lab.hostExec(host, `kill -CONT ${pid} 2>/dev/null; true`);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
