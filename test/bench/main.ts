import { join, resolve } from 'node:path';
import { describeLayout, waitHealthy, type BenchLab } from './lab-site.js';
import { describeMachine } from './machine.js';
import { labDownAt, PROJECT_ROOT } from './product.js';
import { writeHandScript, runHandScript } from './hand-script.js';
import { unmeasuredRow, type Row } from './row.js';
import { writeReport, type BenchReport } from './report.js';

// `npm run bench [-- --quick] [--only ID,ID] [--lab DIR] [--keep-lab]`: every measurement
// of issue 5 on the bench's own lab, one after another, then the report.

interface BenchOptions {
  quick: boolean;
  only: Set<string> | null;
  labDir: string;
  keepLab: boolean;
}

function parseOptions(argv: string[]): BenchOptions {
  const value = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
  };
  const only = value('--only');
  return {
    quick: argv.includes('--quick') || process.env.BENCH_QUICK === '1',
    only: only ? new Set(only.split(',')) : null,
    labDir: resolve(value('--lab') ?? process.env.BENCH_LAB ?? '/tmp/mirrorctl-bench-lab'),
    keepLab: argv.includes('--keep-lab'),
  };
}

const progress = (line: string) => process.stderr.write(`bench: ${line}\n`);

/** Runs one group of rows; an unexpected error becomes a failed row instead of ending the bench. */
async function group(options: BenchOptions, id: string, label: string, target: string, measure: () => Promise<Row[]>): Promise<Row[]> {
  if (options.only && !options.only.has(id)) return [];
  progress(`${label}…`);
  const started = performance.now();
  try {
    const rows = await measure();
    progress(`${label}: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return rows;
  } catch (error) {
    progress(`${label}: failed: ${(error as Error).stack ?? error}`);
    return [unmeasuredRow(id, label, target, 'failed', (error as Error).message.split('\n')[0]!)];
  }
}

/** Puts the site back on the primary it had when the bench started (hand script: independent of mirrorctl). */
async function restoreLayout(lab: BenchLab, initial: string | null): Promise<{ ok: boolean | null; note?: string }> {
  if (!initial) return { ok: null, note: 'The lab was not a healthy pair when the bench started; its layout was not restored.' };
  const { primary, layout } = await waitHealthy(lab, 30_000);
  if (primary === initial) return { ok: true };
  if (primary) {
    progress(`switching the site back to ${initial}`);
    const back = await runHandScript(lab, 'switchover', primary, initial === 'web1' ? 'web1' : 'web2');
    if (back.exitCode !== 0) progress(`switching back failed: ${back.stderr.trim().split('\n').at(-1)}`);
  } else {
    const { repairPair } = await import('./repair.js');
    await repairPair(lab, initial === 'web1' ? 'web1' : 'web2', progress);
  }
  const after = await waitHealthy(lab, 30_000);
  return after.primary === initial ? { ok: true } : { ok: false, note: `The lab was not left as found: ${describeLayout(after.layout ?? layout)}.` };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const started = performance.now();
  const light = options.quick ? 1 : 10;
  const medium = options.quick ? 1 : 7;
  const heavy = options.quick ? 1 : 5;
  const machine = await describeMachine();
  const { openLab } = await import('./lab-site.js');
  const { lab, wasUp } = await openLab(options.labDir, progress);
  await writeHandScript(lab);
  let initial = await waitHealthy(lab, 10_000);
  progress(`lab ${lab.dir}: ${describeLayout(initial.layout)}`);
  if (!initial.primary) {
    const { repairPair } = await import('./repair.js');
    await repairPair(lab, null, progress);
    initial = await waitHealthy(lab, 30_000);
    progress(`lab ${lab.dir} after repair: ${describeLayout(initial.layout)}`);
  }
  const raw: Record<string, unknown> = {};
  const rows: Row[] = [];

  rows.push(...(await group(options, 'startup', 'Start-up', '≤ 2x bare Node', async () => (await import('./startup.js')).measureStartup(lab.inventory, lab.stateHome, light))));
  rows.push(...(await group(options, 'remote-command', 'Remote command cost', 'no new connection', async () => [await (await import('./remote-command.js')).measureRemoteCommand(lab, light * 2)])));
  rows.push(...(await group(options, 'status', 'status wall time', '< 1 s', async () => [await (await import('./status.js')).measureStatus(lab.inventory, lab.stateHome, medium)])));
  rows.push(...(await group(options, 'dry-run', 'switchover --dry-run wall time', '≤ 2x status', async () => [await (await import('./dry-run.js')).measureDryRun(lab.inventory, lab.stateHome, medium)])));
  rows.push(...(await group(options, 'scale', 'Scale with memcached servers', '32 ≤ 2x of 1', async () => (await import('./scale.js')).measureScale(lab, heavy))));
  rows.push(
    ...(await group(options, 'switchover', 'Planned switchover under a writer', 'gap ≤ 0.6x the script', async () => {
      const { rows: r, samples } = await (await import('./switchover.js')).measureSwitchover(lab, heavy, progress);
      raw.switchover_runs = samples;
      return r;
    })),
  );
  rows.push(
    ...(await group(options, 'failover', 'Failover with the primary dead', '≤ 2.5x the script', async () => {
      const { rows: r, samples } = await (await import('./failover.js')).measureFailover(lab, heavy, progress);
      raw.failover_runs = samples;
      return r;
    })),
  );

  const restored = await restoreLayout(lab, initial.primary);
  if (!wasUp && !options.keepLab) {
    progress(`taking down the lab the bench brought up (${lab.dir})`);
    await labDownAt(lab.dir, () => undefined);
  }
  const report: BenchReport = {
    date: new Date().toISOString(),
    duration_s: (performance.now() - started) / 1000,
    quick: options.quick,
    rounds: { light, heavy },
    machine,
    lab: { dir: lab.dir, reused: wasUp, left_as_found: restored.ok, note: restored.note },
    rows,
    raw,
  };
  // Development runs (--quick, --only) never overwrite the full results.
  const partial = options.quick || options.only !== null;
  const markdown = await writeReport(join(PROJECT_ROOT, 'bench-results', ...(partial ? ['partial'] : [])), report);
  process.stdout.write(markdown);
}

main().catch((error: Error) => {
  process.stderr.write(`bench: ${error.stack ?? error}\n`);
  process.exitCode = 1;
});
