import type { Outputs } from '../actions/types.js';
import type { SKIPPED } from '../playbook/templates.js';
import type { RunOutcome } from './events.js';

/** How a run ended, for the CLI: the outcome, the exit code and one sentence when it did not succeed. */
export interface RunResult {
  outcome: RunOutcome;
  exitCode: number;
  /** One sentence for the operator when the run did not succeed. */
  message: string | null;
  hint: string | null;
  changed: string[];
}

export function ended(outcome: RunOutcome, exitCode: number, changed: string[]): RunResult {
  return { outcome, exitCode, message: null, hint: null, changed };
}

/** Each step's outputs as later steps' templates see them (SKIPPED for a step that did not run). */
export type StepOutputs = Map<string, Outputs | typeof SKIPPED>;
