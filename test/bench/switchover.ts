import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LabHostName } from '../../src/lab/paths.js';
import { LAB_HOSTS } from './product.js';
import { runHandScript } from './hand-script.js';
import { describeLayout, otherHost, siteLayout, sql, waitHealthy, type BenchLab } from './lab-site.js';
import { summarize, pairRatios } from './measure.js';
import { mirrorctl } from './mirrorctl.js';
import { describeOutageSteps, journalFiles, newRunEvents, outageSteps, type OutageSteps } from './outage-steps.js';
import { repairPair } from './repair.js';
import { ensureRepmgrInstalled, prepareRepmgr, repmgrSwitchover, setUpRepmgr, tearDownRepmgr } from './repmgr.js';
import type { Row } from './row.js';
import { failureReason, type TimedRun } from './timed-process.js';
import { Writer } from './writer.js';

// Planned switchover under a writer: (a) mirrorctl, (b) repmgr + the IP/flush script,
// (c) the hand-written script; alternated a, b, c. Each run moves the site to the other
// host. The figure is the longest write outage as the product's probe measures it (src/probe:
// from the last acknowledged write before a run of failures to the first after it); afterwards
// every acknowledged write must be on the new primary.

export type Method = 'mirrorctl' | 'repmgr' | 'script';

export interface SwitchoverSample {
  method: Method;
  round: number;
  direction: string;
  ok: boolean;
  reason?: string;
  total_ms: number | null;
  gap_ms: number | null;
  writes_acked: number;
  write_attempts: number;
  lost_writes: number | null;
  exit_code: number | null;
  /** mirrorctl only: each step's share of the longest write outage, from the run's journal. */
  outage_steps?: OutageSteps | null;
}

const SETTLE_AFTER_MS = 3000;
const WARM_UP_MS = 300;

/** Runs one method's switchover from `from` to `to`; the timed command(s). */
async function switchWith(lab: BenchLab, method: Method, from: LabHostName, to: LabHostName): Promise<TimedRun> {
  if (method === 'mirrorctl') return mirrorctl(['switchover', '--yes', '-c', lab.inventory], lab.stateHome, 240_000);
  if (method === 'script') return runHandScript(lab, 'switchover', from, to);
  const started = performance.now();
  const repmgr = await repmgrSwitchover(lab, to);
  if (repmgr.exitCode !== 0) return repmgr;
  const script = await runHandScript(lab, 'ip-flush', from, to);
  return { ...script, command: 'repmgr standby switchover; hand-switch.sh ip-flush', ms: performance.now() - started, stdout: repmgr.stdout + script.stdout };
}

/** The notes of acknowledged writes that the host's `writes` table lacks (null: cannot ask). */
async function lostWrites(lab: BenchLab, host: LabHostName, prefix: string, acked: string[]): Promise<number | null> {
  const rows = await sql(lab, host, `SELECT note FROM writes WHERE note LIKE '${prefix}-%'`);
  if (rows === null) return null;
  const present = new Set(rows.split('\n'));
  return acked.filter((note) => !present.has(note)).length;
}

async function oneRun(lab: BenchLab, method: Method, round: number, progress: (line: string) => void): Promise<SwitchoverSample> {
  const base = { method, round, total_ms: null, gap_ms: null, writes_acked: 0, write_attempts: 0, lost_writes: null, exit_code: null };
  let { primary: from, layout } = await waitHealthy(lab, 30_000);
  if (!from) {
    progress(`switchover: pair not healthy (${describeLayout(layout)}); repairing`);
    from = await repairPair(lab, null, progress);
    if (!from) return { ...base, direction: '?', ok: false, reason: `the lab pair is not healthy before the run: ${describeLayout(layout)}` };
  }
  const to = otherHost(from);
  const direction = `${from} → ${to}`;
  if (method === 'repmgr') await prepareRepmgr(lab, from, to);
  const prefix = `bench-${method}-${round}-${randomBytes(3).toString('hex')}`;
  const journalsBefore = method === 'mirrorctl' ? await journalFiles(lab.stateHome) : null;
  const writer = new Writer(`http://${lab.state.portableIp}`, prefix);
  await sleep(WARM_UP_MS);
  const run = await switchWith(lab, method, from, to);
  await sleep(SETTLE_AFTER_MS);
  const writes = await writer.stop();
  const layoutAfter = run.exitCode === 0 ? null : await siteLayout(lab);
  const acked = writes.acks.map((a) => a.note);
  const ok = run.exitCode === 0;
  // A failed run is checked against whichever host is primary now.
  const now = ok ? to : LAB_HOSTS.find((h) => layoutAfter?.roles[h] === 'primary');
  const lost = now ? await lostWrites(lab, now, prefix, acked) : null;
  let outage: OutageSteps | null | undefined;
  if (journalsBefore) {
    const events = ok && writes.gapFrom !== null ? await newRunEvents(lab.stateHome, journalsBefore, 'switchover') : null;
    outage = events ? outageSteps(events, writes.gapFrom!, writes.gapFrom! + writes.longestGapMs) : null;
  }
  const sample: SwitchoverSample = {
    ...base,
    direction,
    ok,
    reason: ok ? undefined : failureReason(run),
    total_ms: run.ms,
    gap_ms: ok ? writes.longestGapMs : null,
    writes_acked: acked.length,
    write_attempts: writes.attempts,
    lost_writes: lost,
    exit_code: run.exitCode,
    outage_steps: outage,
  };
  progress(`switchover ${method} #${round} ${direction}: ${ok ? `total ${run.ms.toFixed(0)} ms, gap ${writes.longestGapMs.toFixed(0)} ms, ${acked.length} writes, lost ${lost}` : sample.reason}`);
  if (!ok) {
    const healthy = (await waitHealthy(lab, 5_000)).primary;
    if (!healthy) await repairPair(lab, from, progress);
  }
  return sample;
}

export async function measureSwitchover(lab: BenchLab, rounds: number, progress: (line: string) => void): Promise<{ rows: Row[]; samples: SwitchoverSample[] }> {
  let repmgrProblem = await ensureRepmgrInstalled(progress);
  if (!repmgrProblem) {
    const { primary } = await waitHealthy(lab, 30_000);
    repmgrProblem = primary ? await setUpRepmgr(lab, primary).then(() => null, (e: Error) => `repmgr set-up failed: ${e.message}`) : 'the lab pair is not healthy';
  }
  const methods: Method[] = repmgrProblem ? ['mirrorctl', 'script'] : ['mirrorctl', 'repmgr', 'script'];
  const samples: SwitchoverSample[] = [];
  const consecutiveFailures: Partial<Record<Method, number>> = {};
  const skipped: Partial<Record<Method, string>> = {};
  for (let round = 0; round < rounds; round += 1) {
    for (const method of methods) {
      if (skipped[method]) continue;
      const sample = await oneRun(lab, method, round, progress).catch((error: Error): SwitchoverSample => ({
        method, round, direction: '?', ok: false, reason: error.message, total_ms: null, gap_ms: null, writes_acked: 0, write_attempts: 0, lost_writes: null, exit_code: null,
      }));
      samples.push(sample);
      consecutiveFailures[method] = sample.ok ? 0 : (consecutiveFailures[method] ?? 0) + 1;
      // A method that fails twice in a row is not retried: the bench reports why instead.
      if ((consecutiveFailures[method] ?? 0) >= 2) skipped[method] = sample.reason ?? 'failed';
    }
  }
  if (!repmgrProblem) await tearDownRepmgr(lab);
  return { rows: switchoverRows(samples, rounds, repmgrProblem, skipped), samples };
}

function seriesOf(samples: SwitchoverSample[], method: Method, rounds: number, field: 'gap_ms' | 'total_ms'): (number | null)[] {
  return Array.from({ length: rounds }, (_, round) => {
    const s = samples.find((x) => x.method === method && x.round === round);
    return s?.ok ? s[field] : null;
  });
}

function switchoverRows(samples: SwitchoverSample[], rounds: number, repmgrProblem: string | null, skipped: Partial<Record<Method, string>>): Row[] {
  const failure = (method: Method) => {
    const failed = samples.filter((s) => s.method === method && !s.ok);
    if (failed.length === 0) return null;
    const total = samples.filter((s) => s.method === method).length;
    return `${method}: ${failed.length} of ${total} runs failed (${skipped[method] ? 'stopped after 2 failures in a row; ' : ''}${failed[0]!.reason})`;
  };
  const values = (xs: (number | null)[]) => xs.filter((x): x is number => x !== null);
  const gap = { a: seriesOf(samples, 'mirrorctl', rounds, 'gap_ms'), b: seriesOf(samples, 'repmgr', rounds, 'gap_ms'), c: seriesOf(samples, 'script', rounds, 'gap_ms') };
  const total = { a: seriesOf(samples, 'mirrorctl', rounds, 'total_ms'), c: seriesOf(samples, 'script', rounds, 'total_ms') };
  const aSummary = summarize(values(gap.a));
  const aFailure = failure('mirrorctl');
  const rowBase = (id: string, measurement: string): Pick<Row, 'id' | 'measurement' | 'unit' | 'meaning' | 'samples'> => ({ id, measurement, unit: 'ms', meaning: '', samples: {} });
  const status = (...failures: (string | null)[]): Pick<Row, 'status' | 'note'> => {
    const notes = failures.filter((f): f is string => f !== null);
    return { status: notes.length > 0 ? 'failed' : 'ok', note: notes.length > 0 ? notes.join('; ') : undefined };
  };

  const vsScriptRatio = summarize(pairRatios(gap.a, gap.c));
  // Where the outage went, in the median mirrorctl run (by gap).
  const byGap = samples.filter((s) => s.method === 'mirrorctl' && s.ok && s.gap_ms !== null).sort((x, y) => x.gap_ms! - y.gap_ms!);
  const medianRun = byGap[Math.floor((byGap.length - 1) / 2)];
  const where = medianRun?.outage_steps
    ? `where the write outage went in the median mirrorctl run (#${medianRun.round}, ${medianRun.direction}, ${medianRun.gap_ms!.toFixed(0)} ms), from its journal: ${describeOutageSteps(medianRun.outage_steps)}`
    : null;
  const gapStatus = status(aFailure, failure('script'));
  const rows: Row[] = [
    {
      ...rowBase('switchover-gap-vs-script', 'Switchover write-unavailability (longest write outage, the product probe)'),
      mirrorctl: aSummary,
      comparisonLabel: '(c) hand-written script, one multiplexed ssh per host',
      comparison: summarize(values(gap.c)),
      ratio: vsScriptRatio,
      target: '≤ 0.6x the script',
      met: vsScriptRatio ? vsScriptRatio.median <= 0.6 : null,
      ...gapStatus,
      note: [gapStatus.note, where].filter((n): n is string => Boolean(n)).join('; ') || undefined,
    },
  ];
  if (repmgrProblem) {
    rows.push({ ...rowBase('switchover-gap-vs-repmgr', 'Switchover write-unavailability vs repmgr'), mirrorctl: aSummary, comparisonLabel: '(b) repmgr', comparison: null, ratio: null, target: 'below repmgr', met: null, status: 'not measured', note: repmgrProblem });
  } else {
    const bSummary = summarize(values(gap.b));
    const ratio = summarize(pairRatios(gap.a, gap.b));
    rows.push({
      ...rowBase('switchover-gap-vs-repmgr', 'Switchover write-unavailability vs repmgr'),
      mirrorctl: aSummary,
      comparisonLabel: '(b) `repmgr standby switchover` + IP/flush script',
      comparison: bSummary,
      ratio,
      target: '≤ 0.25x repmgr',
      met: ratio ? ratio.median <= 0.25 : null,
      ...status(aFailure, failure('repmgr')),
    });
  }
  const totalRatio = summarize(pairRatios(total.a, total.c));
  rows.push({
    ...rowBase('switchover-total', 'Switchover total wall time'),
    mirrorctl: summarize(values(total.a)),
    comparisonLabel: '(c) hand-written script',
    comparison: summarize(values(total.c)),
    ratio: totalRatio,
    target: '≤ 1.25x the script',
    met: totalRatio ? totalRatio.median <= 1.25 : null,
    ...status(aFailure, failure('script')),
  });
  const unchecked = samples.filter((s) => s.lost_writes === null).length;
  const perMethod = (m: Method) => samples.filter((s) => s.method === m).reduce((n, s) => n + (s.lost_writes ?? 0), 0);
  rows.push({
    ...rowBase('switchover-lost-writes', 'Acknowledged writes missing on the new primary'),
    unit: 'writes',
    mirrorctl: summarize(samples.filter((s) => s.method === 'mirrorctl' && s.lost_writes !== null).map((s) => s.lost_writes!)),
    comparisonLabel: repmgrProblem ? '(c) script' : '(b) repmgr / (c) script',
    comparison: summarize(samples.filter((s) => s.method !== 'mirrorctl' && s.lost_writes !== null).map((s) => s.lost_writes!)),
    ratio: null,
    target: '0',
    met: samples.some((s) => s.method === 'mirrorctl' && s.lost_writes !== null) ? perMethod('mirrorctl') === 0 : null,
    status: 'ok',
    note: `lost in total: mirrorctl ${perMethod('mirrorctl')}, repmgr ${perMethod('repmgr')}, script ${perMethod('script')}; ${samples.reduce((n, s) => n + s.writes_acked, 0)} writes acknowledged over ${samples.length} runs${unchecked ? `; ${unchecked} run(s) could not be checked` : ''}`,
  });
  rows.forEach((row) => (row.samples = { runs: 'see raw.switchover_runs' }));
  return rows;
}
