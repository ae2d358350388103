import { alternate, pairRatios, summarize } from './measure.js';
import { mirrorctl } from './mirrorctl.js';
import type { Row } from './row.js';
import { failureReason, timedRun, type TimedRun } from './timed-process.js';

// Start-up: `mirrorctl --help` and `mirrorctl validate` against bare `node -e 0`,
// alternated in the same run, ratios pair by pair.

export async function measureStartup(inventory: string, stateHome: string, rounds: number): Promise<Row[]> {
  const bare = () => timedRun(process.execPath, ['-e', '0']);
  const [node, help, validate] = await alternate<TimedRun>(rounds, [bare, () => mirrorctl(['--help'], stateHome), () => mirrorctl(['validate', '-c', inventory], stateHome)]);
  const nodeMs = node!.map((r) => r.ms);
  const row = (id: string, measurement: string, runs: TimedRun[], target: string, limit: number | null): Row => {
    const ms = runs.map((r) => r.ms);
    const ratio = summarize(pairRatios(ms, nodeMs));
    const failed = runs.find((r) => r.exitCode !== 0);
    return {
      id,
      measurement,
      unit: 'ms',
      mirrorctl: summarize(ms),
      comparisonLabel: '`node -e 0`',
      comparison: summarize(nodeMs),
      ratio,
      target,
      met: failed || limit === null || !ratio ? null : ratio.median <= limit,
      status: failed ? 'failed' : 'ok',
      note: failed ? failureReason(failed) : undefined,
      meaning: '',
      samples: { mirrorctl_ms: ms, node_ms: nodeMs, exit_codes: runs.map((r) => r.exitCode) },
    };
  };
  return [
    row('startup-help', 'Start-up: `mirrorctl --help`', help!, '≤ 2x bare Node', 2),
    row('startup-validate', 'Start-up: `mirrorctl validate` (lab inventory + bundled playbooks)', validate!, 'report only', null),
  ];
}
