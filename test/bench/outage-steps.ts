import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

// Where an outage goes: a run's step timeline (the journal mirrorctl writes of every run,
// <state dir>/runs/<run_id>.ndjson: the same events the rehearsal report's timeline is
// drawn from) laid over the outage window the bench measured, so each step gets its share.
// Reading the journal changes nothing in the measured command.

export interface StepShare {
  /** A step id, or one of START, PLAN, BETWEEN, AFTER. */
  step: string;
  ms: number;
}

export interface OutageSteps {
  window_ms: number;
  shares: StepShare[];
}

interface JournalEvent {
  event: string;
  ts: string;
  step?: string;
  ms?: number;
  playbook?: string;
}

/** From the command's start to its run.start event: Node, the inventory, SSH connections (and waiting for a dead host). */
export const START = '(start-up and connect, before run.start)';
/** From run.start to the first step: the plan, every step's check. */
export const PLAN = '(plan)';
export const BETWEEN = '(between steps)';
export const AFTER = '(after the last step)';

/** The journal files in mirrorctl's state directory under `stateHome` (XDG_STATE_HOME). */
export async function journalFiles(stateHome: string): Promise<Set<string>> {
  const dir = join(stateHome, 'mirrorctl', 'runs');
  return new Set((await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.ndjson')).map((f) => join(dir, f)));
}

/** The events of the one `playbook` run whose journal appeared since `before`; null when there is not exactly one. */
export async function newRunEvents(stateHome: string, before: Set<string>, playbook: string): Promise<JournalEvent[] | null> {
  const runs: JournalEvent[][] = [];
  for (const file of await journalFiles(stateHome)) {
    if (before.has(file)) continue;
    const events = (await readFile(file, 'utf8'))
      .split('\n')
      .filter((line) => line.trim())
      .map((line) => JSON.parse(line) as JournalEvent);
    if (events[0]?.event === 'run.start' && events[0].playbook === playbook) runs.push(events);
  }
  return runs.length === 1 ? runs[0]! : null;
}

/**
 * Each step's share of the window [from, to] (epoch ms): a step occupies [end − ms, end] of
 * its step.end event (check, apply and verify); what no step covers is start-up (before the
 * run.start event), the plan (run.start to the first step), the engine between steps, or
 * after the last step.
 */
export function outageSteps(events: JournalEvent[], from: number, to: number): OutageSteps {
  const spans = events
    .filter((e) => e.event === 'step.end' && e.step && typeof e.ms === 'number')
    .map((e) => ({ step: e.step!, end: Date.parse(e.ts), start: Date.parse(e.ts) - e.ms! }))
    .sort((a, b) => a.start - b.start);
  const overlap = (a: number, b: number) => Math.max(0, Math.min(b, to) - Math.max(a, from));
  const shares = new Map<string, number>();
  const add = (step: string, ms: number) => {
    if (ms > 0) shares.set(step, (shares.get(step) ?? 0) + ms);
  };
  const runStart = events.find((e) => e.event === 'run.start');
  const firstStep = spans[0]?.start ?? Infinity;
  const planFrom = runStart ? Math.min(Date.parse(runStart.ts), firstStep) : firstStep;
  add(START, overlap(-Infinity, planFrom));
  add(PLAN, overlap(planFrom, firstStep));
  if (spans.length === 0) return { window_ms: to - from, shares: [...shares].map(([step, ms]) => ({ step, ms })) };
  let covered = spans[0]!.start;
  for (const span of spans) {
    // Steps run one after another; should two overlap, the later one counts from where the earlier ended.
    const start = Math.max(span.start, covered);
    add(BETWEEN, overlap(covered, start));
    add(span.step, overlap(start, span.end));
    covered = Math.max(covered, span.end);
  }
  add(AFTER, overlap(covered, Infinity));
  return { window_ms: to - from, shares: [...shares].map(([step, ms]) => ({ step, ms })) };
}

/** "stop-old 412 ms (38%), promote 250 ms (23%), …", largest first. */
export function describeOutageSteps(breakdown: OutageSteps): string {
  return [...breakdown.shares]
    .sort((a, b) => b.ms - a.ms)
    .map((s) => `${s.step} ${s.ms.toFixed(0)} ms (${((100 * s.ms) / breakdown.window_ms).toFixed(0)}%)`)
    .join(', ');
}
