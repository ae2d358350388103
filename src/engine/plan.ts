import type { Action, CheckResult, EarlierStep, Outputs } from '../actions/types.js';
import type { StepSpec } from '../playbook/schema.js';
import { SKIPPED, render, type TemplateScope } from '../playbook/templates.js';
import type { RunContext } from './context.js';
import { since } from './duration.js';
import { checkStep } from './check-step.js';
import { emitPlannedCheck } from './step-life.js';
import { notRepeated, resumedCheck, resumeIndex } from './resume.js';

/** One step as the plan found it. */
export interface PlannedStep {
  spec: StepSpec;
  action: Action;
  host: string | null;
  /** Every host the step touches (its host and the hosts in its `with`). */
  hosts: string[];
  check: CheckResult;
  ms: number;
}

export interface Plan {
  steps: PlannedStep[];
  blocked: PlannedStep[];
  /** A step other than assert/http.expect/preflight is ready: the run will change something. */
  changes: boolean;
}

/**
 * Runs every check against the site as it is, in parallel where independent
 * (a step waits only for the checks of the steps whose outputs it uses), and
 * emits the `plan` step.check events in step order.
 */
export async function makePlan(run: RunContext): Promise<Plan> {
  const outputs = new Map<string, Outputs | typeof SKIPPED>();
  const pending = new Map<string, Promise<PlannedStep>>();
  const earlier: EarlierStep[] = [];
  const warnings = new Map<string, string[]>();

  const fromIndex = resumeIndex(run);
  for (const [index, spec] of run.steps.entries()) {
    const action = run.actions.get(spec.action)!;
    const before = [...earlier];
    const waitFor = spec.uses.map((id) => pending.get(id)).filter((p) => p !== undefined);
    const resuming = index < fromIndex ? run.fromStep : null;
    const planned = Promise.all(waitFor).then(() => planStep(run, spec, action, outputs, before, (m) => pushWarning(warnings, spec.id, m), resuming));
    pending.set(spec.id, planned);
    // Steps before --from-step are never applied: later checks must not count on them.
    if (!resuming) earlier.push(earlierStep(run, spec));
  }

  const steps: PlannedStep[] = [];
  for (const spec of run.steps) {
    const step = await pending.get(spec.id)!;
    for (const message of warnings.get(spec.id) ?? []) run.bus.notice({ level: 'warn', message, step: spec.id });
    emitPlannedCheck(run.bus, spec, step.host, step.check, step.ms);
    steps.push(step);
  }
  // A step with ignore_errors that is blocked is a warning, never the run's outcome (spec 7).
  for (const s of steps) {
    if (s.check.status === 'blocked' && s.spec.ignoreErrors) run.bus.notice({ level: 'warn', message: `step ${s.spec.id} is blocked (ignore_errors: the run goes on): ${s.check.summary}`, step: s.spec.id });
  }
  const blocked = steps.filter((s) => s.check.status === 'blocked' && !s.spec.ignoreErrors);
  const changes = steps.some((s) => s.check.status === 'ready' && s.action.changes);
  return { steps, blocked, changes };
}

async function planStep(
  run: RunContext,
  spec: StepSpec,
  action: Action,
  outputs: Map<string, Outputs | typeof SKIPPED>,
  earlier: EarlierStep[],
  warn: (message: string) => void,
  resuming: string | null,
): Promise<PlannedStep> {
  const started = performance.now();
  const skip = resuming ? notRepeated(action, resuming) : null;
  if (skip) {
    outputs.set(spec.id, SKIPPED);
    return { spec, action, host: null, hosts: [], check: skip, ms: since(started) };
  }
  const checked = await checkStep(run, spec, action, templateScope(run, outputs), 'plan', earlier, warn);
  const { host, hosts } = checked;
  const check = resuming ? resumedCheck(spec, checked.check, resuming) : checked.check;
  outputs.set(spec.id, check.status === 'skipped' ? SKIPPED : (check.outputs ?? {}));
  return { spec, action, host, hosts, check, ms: since(started) };
}

/** Template scope over the outputs known so far; unknown outputs render as placeholders. */
export function templateScope(run: RunContext, outputs: Map<string, Outputs | typeof SKIPPED>): TemplateScope {
  return {
    params: run.playbook.params,
    inventory: run.inventory.doc,
    stepOutput(id: string, name: string) {
      const found = outputs.get(id);
      if (found === SKIPPED) return SKIPPED;
      return found?.[name];
    },
  };
}

/**
 * A step as later checks of the plan see it: its host and `with` rendered with the run's
 * parameters and the inventory, outputs of steps as placeholders (none has run yet).
 */
function earlierStep(run: RunContext, spec: StepSpec): EarlierStep {
  const scope: TemplateScope = { params: run.playbook.params, inventory: run.inventory.doc, stepOutput: () => undefined };
  const rendered = (value: unknown): unknown => {
    try {
      return render(value, scope);
    } catch {
      return undefined;
    }
  };
  const host = spec.host === null ? undefined : rendered(spec.host);
  const params = Object.fromEntries(
    Object.entries(spec.with)
      .map(([key, value]) => [key, rendered(value)] as const)
      .filter(([, value]) => value !== undefined),
  );
  return { id: spec.id, action: spec.action, host: host === undefined || host === null || host === '' ? null : String(host), params };
}

function pushWarning(map: Map<string, string[]>, id: string, message: string): void {
  const list = map.get(id) ?? [];
  list.push(message);
  map.set(id, list);
}
