import { alternate } from './measure.js';
import { mirrorctl } from './mirrorctl.js';
import type { Row } from './row.js';
import { cliRow, dryRunProblem } from './status.js';

// Wall time of `mirrorctl switchover --dry-run` on the lab (every check runs, nothing changes).

export async function measureDryRun(inventory: string, stateHome: string, rounds: number): Promise<Row> {
  const [runs] = await alternate(rounds, [() => mirrorctl(['switchover', '--dry-run', '-c', inventory], stateHome)]);
  return cliRow('dry-run', '`mirrorctl switchover --dry-run` on the lab', runs!, '≤ 1 s', 1000, dryRunProblem);
}
