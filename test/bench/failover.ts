import type { LabHostName } from '../../src/lab/paths.js';
import { labCut, labRestore } from './product.js';
import { runHandScript } from './hand-script.js';
import { describeLayout, otherHost, waitHealthy, type BenchLab } from './lab-site.js';
import { pairRatios, summarize } from './measure.js';
import { mirrorctl } from './mirrorctl.js';
import { describeOutageSteps, journalFiles, newRunEvents, outageSteps, type OutageSteps } from './outage-steps.js';
import { repairPair } from './repair.js';
import type { Row } from './row.js';
import { failureReason, type TimedRun } from './timed-process.js';
import { firstAnswerFrom } from './writer.js';

// Failover with the primary host dead (cut off: link down, processes killed): time from
// the command's start to the first HTTP 200 from the new host through the portable IP.
// (a) `mirrorctl failover --yes` versus (c) the hand-written script (promote, sessions,
// IP claim, flush). Then the old host comes back and is rejoined (mirrorctl rejoin, or
// the script's own) so the next run starts from a healthy pair.

export type FailoverMethod = 'mirrorctl' | 'script';

export interface FailoverSample {
  method: FailoverMethod;
  round: number;
  direction: string;
  ok: boolean;
  reason?: string;
  /** Command start to the first 200 from the new host through the portable IP. */
  serving_ms: number | null;
  command_ms: number | null;
  exit_code: number | null;
  rejoin_ms: number | null;
  rejoin_ok: boolean | null;
  rejoin_reason?: string;
  /** mirrorctl only: each step's share of command start → first 200, from the run's journal. */
  outage_steps?: OutageSteps | null;
}

async function failoverWith(lab: BenchLab, method: FailoverMethod, dead: LabHostName, survivor: LabHostName): Promise<TimedRun> {
  return method === 'mirrorctl' ? mirrorctl(['failover', '--yes', '-c', lab.inventory], lab.stateHome, 120_000) : runHandScript(lab, 'failover', dead, survivor);
}

async function rejoinWith(lab: BenchLab, method: FailoverMethod, old: LabHostName, primary: LabHostName): Promise<TimedRun> {
  return method === 'mirrorctl' ? mirrorctl(['rejoin', old, '--yes', '-c', lab.inventory], lab.stateHome, 180_000) : runHandScript(lab, 'rejoin', old, primary);
}

async function oneRun(lab: BenchLab, method: FailoverMethod, round: number, progress: (line: string) => void): Promise<FailoverSample> {
  let { primary: dead, layout } = await waitHealthy(lab, 30_000);
  if (!dead) {
    progress(`failover: pair not healthy (${describeLayout(layout)}); repairing`);
    dead = await repairPair(lab, null, progress);
    if (!dead) return { method, round, direction: '?', ok: false, reason: `the lab pair is not healthy before the run: ${describeLayout(layout)}`, serving_ms: null, command_ms: null, exit_code: null, rejoin_ms: null, rejoin_ok: null };
  }
  const survivor = otherHost(dead);
  const journalsBefore = method === 'mirrorctl' ? await journalFiles(lab.stateHome) : null;
  await labCut(lab.dir, dead);
  const started = performance.now();
  const [run, servingMs] = await Promise.all([
    failoverWith(lab, method, dead, survivor),
    firstAnswerFrom(`http://${lab.state.portableIp}/health`, survivor, started, 60_000),
  ]);
  const ok = run.exitCode === 0 && servingMs !== null;
  const reason = run.exitCode !== 0 ? failureReason(run) : servingMs === null ? `${survivor} never answered through the portable IP within 60 s` : undefined;
  let outage: OutageSteps | null | undefined;
  if (journalsBefore) {
    const events = ok ? await newRunEvents(lab.stateHome, journalsBefore, 'failover') : null;
    const from = performance.timeOrigin + started;
    outage = events ? outageSteps(events, from, from + servingMs!) : null;
  }
  await labRestore(lab.dir, dead);
  const rejoin = await rejoinWith(lab, method, dead, survivor);
  const sample: FailoverSample = {
    method,
    round,
    direction: `${dead} dead → ${survivor}`,
    ok,
    reason,
    serving_ms: servingMs,
    command_ms: run.ms,
    exit_code: run.exitCode,
    rejoin_ms: rejoin.ms,
    rejoin_ok: rejoin.exitCode === 0,
    rejoin_reason: rejoin.exitCode === 0 ? undefined : failureReason(rejoin),
    outage_steps: outage,
  };
  progress(`failover ${method} #${round} ${sample.direction}: ${ok ? `serving after ${servingMs!.toFixed(0)} ms (command ${run.ms.toFixed(0)} ms)` : reason}; rejoin ${sample.rejoin_ok ? `${rejoin.ms.toFixed(0)} ms` : sample.rejoin_reason}`);
  if (!(await waitHealthy(lab, 15_000)).primary) await repairPair(lab, survivor, progress);
  return sample;
}

export async function measureFailover(lab: BenchLab, rounds: number, progress: (line: string) => void): Promise<{ rows: Row[]; samples: FailoverSample[] }> {
  const methods: FailoverMethod[] = ['mirrorctl', 'script'];
  const samples: FailoverSample[] = [];
  const failures: Partial<Record<FailoverMethod, number>> = {};
  for (let round = 0; round < rounds; round += 1) {
    for (const method of methods) {
      if ((failures[method] ?? 0) >= 2) continue;
      const sample = await oneRun(lab, method, round, progress).catch(async (error: Error): Promise<FailoverSample> => {
        await repairPair(lab, null, progress).catch(() => null);
        return { method, round, direction: '?', ok: false, reason: error.message, serving_ms: null, command_ms: null, exit_code: null, rejoin_ms: null, rejoin_ok: null };
      });
      samples.push(sample);
      failures[method] = sample.ok ? 0 : (failures[method] ?? 0) + 1;
    }
  }
  const series = (method: FailoverMethod) =>
    Array.from({ length: rounds }, (_, round) => {
      const s = samples.find((x) => x.method === method && x.round === round);
      return s?.ok ? s.serving_ms : null;
    });
  const a = series('mirrorctl');
  const c = series('script');
  const values = (xs: (number | null)[]) => xs.filter((x): x is number => x !== null);
  const aSummary = summarize(values(a));
  const failedNotes = methods.flatMap((m) => {
    const failed = samples.filter((s) => s.method === m && !s.ok);
    return failed.length ? [`${m}: ${failed.length} of ${samples.filter((s) => s.method === m).length} runs failed (${failed[0]!.reason})`] : [];
  });
  const rejoinNotes = methods.flatMap((m) => {
    const failed = samples.filter((s) => s.method === m && s.rejoin_ok === false);
    return failed.length ? [`${m} rejoin failed ${failed.length}x (${failed[0]!.rejoin_reason})`] : [];
  });
  const rejoins = summarize(samples.filter((s) => s.method === 'mirrorctl' && s.rejoin_ok).map((s) => s.rejoin_ms!));
  const byServing = samples.filter((s) => s.method === 'mirrorctl' && s.ok).sort((x, y) => x.serving_ms! - y.serving_ms!);
  const medianRun = byServing[Math.floor((byServing.length - 1) / 2)];
  const where = medianRun?.outage_steps
    ? [`where command start → first 200 went in the median mirrorctl run (#${medianRun.round}, ${medianRun.direction}, ${medianRun.serving_ms!.toFixed(0)} ms), from its journal: ${describeOutageSteps(medianRun.outage_steps)}`]
    : [];
  const notes = [...failedNotes, ...rejoinNotes, ...(rejoins ? [`mirrorctl rejoin afterwards: median ${rejoins.median.toFixed(0)} ms`] : []), ...where];
  const failoverRatio = summarize(pairRatios(a, c));
  return {
    samples,
    rows: [
      {
        id: 'failover',
        measurement: 'Failover, primary host dead: command start → first 200 from the new host via the portable IP',
        unit: 'ms',
        mirrorctl: aSummary,
        comparisonLabel: '(c) hand-written script',
        comparison: summarize(values(c)),
        ratio: failoverRatio,
        target: '≤ 2.5x the script',
        met: failoverRatio ? failoverRatio.median <= 2.5 : null,
        status: failedNotes.length ? 'failed' : 'ok',
        note: notes.length ? notes.join('; ') : undefined,
        meaning: '',
        samples: { runs: 'see raw.failover_runs' },
      },
    ],
  };
}
