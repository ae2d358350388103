import { alternate, pairRatios, summarize } from './measure.js';
import { mirrorctl } from './mirrorctl.js';
import type { Row } from './row.js';
import { cliRow, dryRunProblem, statusProblem } from './status.js';

// Wall time of `mirrorctl switchover --dry-run` on the lab (every check runs, nothing changes),
// alternated with `mirrorctl status --json` (the status row's command): the target is a ratio.

export async function measureDryRun(inventory: string, stateHome: string, rounds: number): Promise<Row> {
  const [dry, status] = await alternate(rounds, [
    () => mirrorctl(['switchover', '--dry-run', '-c', inventory], stateHome),
    () => mirrorctl(['status', '--json', '-c', inventory], stateHome),
  ]);
  const row = cliRow('dry-run', '`mirrorctl switchover --dry-run` on the lab', dry!, '≤ 2x `status`', Number.POSITIVE_INFINITY, dryRunProblem);
  const statusFailed = status!.map(statusProblem).find((p) => p !== null);
  const ratio = summarize(pairRatios(dry!.map((r) => r.ms), status!.map((r) => r.ms)));
  return {
    ...row,
    comparisonLabel: '`mirrorctl status --json`, alternated',
    comparison: summarize(status!.map((r) => r.ms)),
    ratio,
    met: row.status === 'failed' || statusFailed || !ratio ? null : ratio.median <= 2,
    note: row.note ?? statusFailed ?? undefined,
  };
}
