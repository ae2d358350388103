import { alternate, summarize } from './measure.js';
import { mirrorctl } from './mirrorctl.js';
import type { Row } from './row.js';
import { failureReason, type TimedRun } from './timed-process.js';

// Wall time of one CLI command on the lab: `status` and `switchover --dry-run`.

export function cliRow(id: string, measurement: string, runs: TimedRun[], target: string, limitMs: number, check: (run: TimedRun) => string | null): Row {
  const ms = runs.map((r) => r.ms);
  const problems = runs.map(check);
  const failed = problems.findIndex((p) => p !== null);
  const summary = summarize(ms);
  return {
    id,
    measurement,
    unit: 'ms',
    mirrorctl: summary,
    comparisonLabel: null,
    comparison: null,
    ratio: null,
    target,
    met: failed >= 0 || !summary ? null : summary.median <= limitMs,
    status: failed >= 0 ? 'failed' : 'ok',
    note: failed >= 0 ? problems[failed]! : undefined,
    meaning: '',
    samples: { ms, exit_codes: runs.map((r) => r.exitCode) },
  };
}

/** `status --json` answers exit 0 with a served_by; anything else is a failure reason. */
export function statusProblem(run: TimedRun): string | null {
  if (run.exitCode !== 0) return failureReason(run);
  try {
    const status = JSON.parse(run.stdout) as { served_by?: unknown };
    return status.served_by ? null : `status says no host serves the site: ${run.stdout.slice(0, 200)}`;
  } catch {
    return `status --json printed no JSON: ${run.stdout.slice(0, 120)}`;
  }
}

/** A dry run is good when it exits 0. */
export function dryRunProblem(run: TimedRun): string | null {
  return run.exitCode === 0 ? null : failureReason(run);
}

export async function measureStatus(inventory: string, stateHome: string, rounds: number): Promise<Row> {
  const [runs] = await alternate(rounds, [() => mirrorctl(['status', '--json', '-c', inventory], stateHome)]);
  return cliRow('status', '`mirrorctl status` on the lab', runs!, '< 1 s', 1000, statusProblem);
}
