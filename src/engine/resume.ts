import type { Action, CheckResult } from '../actions/types.js';
import type { StepSpec } from '../playbook/schema.js';
import type { RunContext } from './context.js';

// `--from-step ID` resumes a run; it never skips work (spec section 4). The steps
// before ID are checked, never applied: a `done` one supplies its outputs, a skipped
// one stays skipped, a flush or an assertion is not repeated, and any other step that
// is not done blocks the run, so `--from-step promote` can never make a second primary.

/** The index of the --from-step step (0 without one). */
export function resumeIndex(run: RunContext): number {
  return run.fromStep ? Math.max(0, run.steps.findIndex((s) => s.id === run.fromStep)) : 0;
}

/** For a step before --from-step whose action is never `done`: skipped without asking the site. */
export function notRepeated(action: Action, fromStep: string): CheckResult | null {
  if (!action.neverDone) return null;
  return { status: 'skipped', summary: `before --from-step ${fromStep}: ${action.name} is not repeated when resuming` };
}

/** What a check of a step before --from-step means: done and skipped stand; anything else blocks. */
export function resumedCheck(spec: StepSpec, check: CheckResult, fromStep: string): CheckResult {
  if (check.status === 'done' || check.status === 'skipped' || check.status === 'blocked') return check;
  return {
    status: 'blocked',
    summary: `step ${spec.id} comes before --from-step ${fromStep} but is not done (${check.summary}): --from-step never skips work; resume from ${spec.id}, or run the command again without --from-step`,
  };
}
