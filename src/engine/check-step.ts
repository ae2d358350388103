import type { Action, CheckResult, EarlierStep } from '../actions/types.js';
import type { StepSpec } from '../playbook/schema.js';
import type { TemplateScope } from '../playbook/templates.js';
import { checkFailure } from './check-failure.js';
import { stepContext, type RunContext } from './context.js';
import { prepareStep } from './prepare-step.js';

/** A step after its check: where it runs, its rendered parameters, and what the check found. */
export interface CheckedStep {
  host: string | null;
  /** Every host the step touches (its host and the hosts in its `with`). */
  hosts: string[];
  params: Record<string, unknown>;
  check: CheckResult;
}

/**
 * Renders a step and runs its check, the same way in the plan and right before the
 * step runs: `when` false, an output of a skipped step or an optional step's host
 * not answering → skipped; a check that throws → blocked (a ConfigError propagates).
 */
export async function checkStep(
  run: RunContext,
  spec: StepSpec,
  action: Action,
  scope: TemplateScope,
  phase: 'plan' | 'run',
  earlier: EarlierStep[],
  warn: (message: string) => void,
): Promise<CheckedStep> {
  const checked: CheckedStep = { host: null, hosts: [], params: {}, check: { status: 'skipped', summary: '' } };
  try {
    const prepared = await prepareStep(spec, action, scope, run.inventory, run.pool);
    if (!prepared.go) {
      if (prepared.warning) warn(prepared.warning);
      checked.check = { status: 'skipped', summary: prepared.summary };
      return checked;
    }
    checked.host = prepared.host;
    checked.hosts = prepared.hosts;
    checked.params = prepared.params;
    checked.check = await action.check(stepContext(run, spec, prepared.host, phase, earlier, warn), prepared.params);
  } catch (error) {
    checked.check = checkFailure(error, spec);
  }
  return checked;
}
