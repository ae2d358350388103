import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import type { RunEvent } from '../engine/events.js';
import { resolveStateDir } from '../engine/state-dir.js';
import { journalDir } from '../reporters/journal.js';
import type { CommonOptions } from './options.js';
import { verdictLine } from '../probe/verdict-line.js';

/** `mirrorctl runs [RUN_ID]`: list past runs, or show one run's journal. */
export async function runsCommand(runId: string | undefined, options: CommonOptions): Promise<number> {
  const dir = journalDir(resolveStateDir(options.stateDir));
  if (runId) return showRun(dir, runId, options);
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.ndjson')).sort();
  const rows = await Promise.all(files.map(async (f) => summarize(await readEvents(join(dir, f)))));
  if (options.json) {
    process.stdout.write(rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : ''));
    return 0;
  }
  if (rows.length === 0) process.stdout.write(`no runs recorded in ${dir}\n`);
  for (const r of rows) {
    process.stdout.write(`${r.run_id}  ${r.playbook.padEnd(12)} ${r.site.padEnd(8)} ${(r.dry_run ? 'dry run' : 'run').padEnd(8)} ${r.outcome.padEnd(10)} exit ${r.exit_code ?? '-'}\n`);
  }
  return 0;
}

async function showRun(dir: string, runId: string, options: CommonOptions): Promise<number> {
  const file = join(dir, `${runId}.ndjson`);
  const text = await readFile(file, 'utf8').catch(() => null);
  if (text === null) throw new ConfigError(`no run ${runId} in ${dir}`, { hint: 'list runs with `mirrorctl runs`' });
  if (options.json) {
    process.stdout.write(text);
    return 0;
  }
  for (const event of parse(text)) process.stdout.write(describe(event) + '\n');
  return 0;
}

async function readEvents(file: string): Promise<RunEvent[]> {
  return parse(await readFile(file, 'utf8'));
}

function parse(text: string): RunEvent[] {
  return text
    .split('\n')
    .filter(Boolean)
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as RunEvent];
      } catch {
        return [];
      }
    });
}

function summarize(events: RunEvent[]) {
  const start = events.find((e) => e.event === 'run.start');
  const end = events.find((e) => e.event === 'run.end');
  return {
    run_id: events[0]?.run_id ?? '?',
    started_at: events[0]?.ts ?? null,
    playbook: start && start.event === 'run.start' ? start.playbook : '?',
    site: start && start.event === 'run.start' ? start.site : '?',
    dry_run: start && start.event === 'run.start' ? start.dry_run : false,
    outcome: end && end.event === 'run.end' ? end.outcome : 'unfinished',
    exit_code: end && end.event === 'run.end' ? end.exit_code : null,
  };
}

function describe(e: RunEvent): string {
  switch (e.event) {
    case 'run.start':
      return `${e.ts}  start   ${e.playbook} on ${e.site}${e.dry_run ? ' (dry run)' : ''} ${JSON.stringify(e.params)}`;
    case 'step.check':
      return `${e.ts}  check   ${e.step} [${e.phase}] ${e.status}${e.host ? ` on ${e.host}` : ''}: ${e.summary}`;
    case 'step.apply':
    case 'step.verify':
      return `${e.ts}  ${e.event === 'step.apply' ? 'apply ' : 'verify'}  ${e.step}: ${e.summary}`;
    case 'step.end':
      return `${e.ts}  end     ${e.step} ${e.outcome}${e.error ? `: ${e.error}` : ''}`;
    case 'run.end':
      return `${e.ts}  finish  ${e.outcome} (exit ${e.exit_code})${e.changed.length ? ` changed ${e.changed.join(', ')}` : ''}`;
    case 'probe.summary':
      return `${e.ts}  probe   ${verdictLine(e)}`;
    case 'error':
      return `${e.ts}  error   ${e.message}`;
  }
}
