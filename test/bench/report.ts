import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Machine } from './machine.js';
import type { Summary } from './measure.js';
import type { Row } from './row.js';

// The bench's output: a Markdown table with one sentence per row, and a JSON file with
// every raw sample.

export interface BenchReport {
  date: string;
  duration_s: number;
  quick: boolean;
  rounds: { light: number; heavy: number };
  machine: Machine;
  lab: { dir: string; reused: boolean; left_as_found: boolean | null; note?: string };
  rows: Row[];
  raw: Record<string, unknown>;
}

function number(value: number, unit: Row['unit']): string {
  if (unit === 'writes') return String(Math.round(value));
  if (value >= 10_000) return `${(value / 1000).toFixed(1)} s`;
  if (value >= 1000) return `${(value / 1000).toFixed(2)} s`;
  return value >= 10 ? `${value.toFixed(0)} ms` : `${value.toFixed(1)} ms`;
}

/** "412 ms (380 ms–520 ms, n=5)". */
export function formatSummary(summary: Summary | null, unit: Row['unit']): string {
  if (!summary) return '—';
  if (summary.n === 1) return `${number(summary.median, unit)} (n=1)`;
  return `${number(summary.median, unit)} (${number(summary.min, unit)}–${number(summary.max, unit)}, n=${summary.n})`;
}

function formatRatio(summary: Summary | null): string {
  if (!summary) return '—';
  const x = (v: number) => `${v.toFixed(2)}x`;
  return summary.n === 1 ? x(summary.median) : `${x(summary.median)} (${x(summary.min)}–${x(summary.max)})`;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const short = (text: string | undefined, max = 140) => (text && text.length > max ? `${text.slice(0, max - 1)}…` : (text ?? ''));

/** One sentence on what a row's figure means. */
export function meaningOf(row: Row): string {
  const m = row.mirrorctl ? number(row.mirrorctl.median, row.unit) : null;
  const c = row.comparison ? number(row.comparison.median, row.unit) : null;
  const r = row.ratio ? `${row.ratio.median.toFixed(2)}x` : null;
  if (row.status === 'not measured') return `Not measured: ${row.note}.`;
  if (!m) return `Could not be measured: ${row.note ?? 'no successful run'}.`;
  switch (row.id) {
    case 'startup-help':
      return `Printing usage costs ${r} the start-up of a bare Node process (${m} vs ${c}): what an operator waits for before any command does anything.`;
    case 'startup-validate':
      return `Checking the inventory and every bundled playbook offline takes ${m}, ${r} a bare Node start.`;
    case 'remote-command':
      return `Once the host's SSH connection is open, one command costs ${m} (${r} a local \`nsenter\` at ${c}); ${row.met ? 'sshd saw a single connection for the whole series' : 'sshd saw more than one connection'}.`;
    case 'status':
      return `A full picture of the site (both hosts over SSH, PostgreSQL through the tunnel, memcached) takes ${m}.`;
    case 'dry-run':
      return `Planning a switchover, with every check run against the live site and nothing changed, takes ${m}, ${r ?? 'n/a'} a \`status\` run alternated with it (${c ?? 'n/a'}).`;
    case 'scale-status':
    case 'scale-dry-run':
      return `Going from 1 to 32 memcached servers multiplies the wall time by ${r} (${c} → ${m}), so servers are asked in parallel${row.met === false ? ' only partly' : ''}.`;
    case 'switchover-gap-vs-script':
      return `During a planned switchover, writes through the portable IP stall at most ${m} with mirrorctl against ${c ?? 'n/a'} for the bare script (${r ?? 'n/a'}): the outage users see.`;
    case 'switchover-gap-vs-repmgr':
      return `repmgr's switchover plus the same IP move and flush stalls writes ${c ?? 'n/a'}, against ${m} for mirrorctl (${r ?? 'n/a'}); the IP moves only once \`repmgr\` returns, after it has reattached the old primary.`;
    case 'switchover-total':
      return `The whole switchover (file syncs, rejoin of the old primary and HTTP check included) takes ${m}, ${r ?? 'n/a'} the hand-written floor (${c ?? 'n/a'}).`;
    case 'switchover-lost-writes':
      return `Every write the app acknowledged before, during and after the switch was looked up on the new primary: ${row.met ? 'none is missing' : 'some are missing'}.`;
    case 'failover':
      return `With the primary host dead, the site answers from the mirror ${m} after the command starts, against ${c ?? 'n/a'} for the bare script (promote, sessions, IP, flush, no checks): the outage users see on an unplanned loss.`;
    default:
      return '';
  }
}

function mirrorctlCell(row: Row): string {
  if (row.status === 'failed' && !row.mirrorctl) return `failed: ${short(row.note)}`;
  const text = formatSummary(row.mirrorctl, row.unit);
  return row.status === 'failed' ? `${text} ⚠ (some runs failed, see below)` : text;
}

function comparisonCell(row: Row): string {
  if (!row.comparisonLabel) return '—';
  if (row.status === 'not measured') return `${row.comparisonLabel}: not measured: ${short(row.note)}`;
  return `${row.comparisonLabel}: ${formatSummary(row.comparison, row.unit)}`;
}

function metCell(row: Row): string {
  if (row.met === null) return '—';
  return row.met ? 'yes' : '**no**';
}

export function renderMarkdown(report: BenchReport): string {
  const m = report.machine;
  const lines = [
    `### Bench results (${report.date})`,
    '',
    `Machine: ${m.nproc} CPUs (${m.cpu}), ${m.memory_gib} GiB memory, Linux ${m.kernel} (${m.os}), Node ${m.node}; load average at the start ${m.load_average}. ` +
      `Runs per row: ${report.rounds.light} (light rows), ${report.rounds.heavy} (switchover and failover, alternated); bench took ${report.duration_s.toFixed(0)} s` +
      `${report.quick ? ' (--quick: 1 run per row, for development only)' : ''}. Lab ${report.lab.dir} (${report.lab.reused ? 'reused' : 'brought up by the bench'}).`,
    '',
    '| measurement | mirrorctl | comparison | ratio | target | met? |',
    '|---|---|---|---|---|---|',
    ...report.rows.map((row) => `| ${cell(row.measurement)} | ${cell(mirrorctlCell(row))} | ${cell(comparisonCell(row))} | ${cell(formatRatio(row.ratio))} | ${cell(row.target)} | ${metCell(row)} |`),
    '',
    'What each row means:',
    '',
    ...report.rows.map((row) => `- **${row.measurement}**: ${row.meaning}${row.note && row.status !== 'not measured' ? ` (${row.note})` : ''}`),
    '',
    'Figures are median (min–max, n runs) over the successful runs; ratios are mirrorctl ÷ comparison, computed pair by pair within one run (pairs with a failed side left out) and summarised the same way; "met?" is judged on those medians. ⚠ marks a row where some runs failed: the sentence below says which and why.',
    ...(report.lab.note ? ['', report.lab.note] : []),
    '',
  ];
  return lines.join('\n');
}

/** Writes bench-results/results.json and results.md; returns the Markdown. */
export async function writeReport(dir: string, report: BenchReport): Promise<string> {
  for (const row of report.rows) row.meaning = meaningOf(row);
  const markdown = renderMarkdown(report);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'results.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(join(dir, 'results.md'), markdown);
  return markdown;
}
