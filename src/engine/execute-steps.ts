import type { Outputs } from '../actions/types.js';
import { AbortedError } from '../errors.js';
import { SKIPPED } from '../playbook/templates.js';
import type { StepSpec } from '../playbook/schema.js';
import { sentenceOf } from '../error-sentence.js';
import { applyAndVerify } from './apply-step.js';
import { stepContext, type RunContext } from './context.js';
import type { Interrupt } from './interrupt.js';
import { templateScope } from './plan.js';
import { checkStep } from './check-step.js';
import { notRepeated, resumedCheck, resumeIndex } from './resume.js';
import { ended, type RunResult, type StepOutputs } from './run-result.js';
import { StepLife } from './step-life.js';

/** The apply phase: for each step, check again with real values, then apply and verify. */
export async function executeSteps(run: RunContext, interrupt: Interrupt): Promise<RunResult> {
  const outputs: StepOutputs = new Map();
  const changed: string[] = [];
  const fromIndex = resumeIndex(run);
  let stop: RunResult | null = null;

  for (const [index, spec] of run.steps.entries()) {
    const life = new StepLife(run.bus, spec);
    // A second Ctrl-C that this step does not answer in time still records it before the process exits.
    const forget = interrupt.beforeHardStop(() => life.end('failed', 'stopped at once by a second Ctrl-C before it ended'));
    try {
      if (stop === null && interrupt.requested) stop = interrupted(changed);
      if (stop !== null) {
        outputs.set(spec.id, SKIPPED);
        life.end('skipped');
        continue;
      }
      const step = await runStep({ run, interrupt, life, spec, outputs, changed }, index < fromIndex ? run.fromStep : null);
      outputs.set(spec.id, step.outputs ?? SKIPPED);
      if (life.state === 'changed') changed.push(spec.id);
      stop = step.stop ?? null;
    } finally {
      forget();
    }
  }
  return stop ?? ended('succeeded', 0, changed);
}

interface StepTurn {
  run: RunContext;
  interrupt: Interrupt;
  life: StepLife;
  spec: StepSpec;
  /** Earlier steps' outputs (this step's templates render against them). */
  outputs: StepOutputs;
  changed: string[];
}

/** One step from its re-check to its end; `stop` ends the run after it; no outputs: later steps see it as skipped. */
async function runStep(turn: StepTurn, resuming: string | null): Promise<{ outputs?: Outputs; stop?: RunResult }> {
  const { run, interrupt, life, spec, changed } = turn;
  if (run.confirmEachStep && !(await run.prompter.confirm(`Run step ${spec.id} (${spec.action})?`))) {
    const stop = { ...ended('aborted', 130, changed), message: `declined at step ${spec.id}`, hint: await resumeHint(run, spec.id) };
    life.end('skipped');
    return { stop };
  }
  const action = run.actions.get(spec.action)!;
  const skip = resuming ? notRepeated(action, resuming) : null;
  if (skip) {
    life.checked(null, skip);
    life.end('skipped');
    return {};
  }
  const warn = (message: string) => run.bus.notice({ level: 'warn', message, step: spec.id });
  const checked = await checkStep(run, spec, action, templateScope(run, turn.outputs), 'run', [], warn);
  const { host, params } = checked;
  // Before --from-step a step is only checked: done supplies its outputs, anything else blocks.
  const check = resuming ? resumedCheck(spec, checked.check, resuming) : checked.check;
  life.checked(host, check);

  switch (check.status) {
    case 'skipped':
      life.end('skipped');
      return {};
    case 'blocked':
      life.end('blocked', check.summary);
      if (spec.ignoreErrors) {
        warn(`step ${spec.id} is blocked (ignore_errors: the run goes on): ${check.summary}`);
        return {};
      }
      return { stop: { ...ended('blocked', 3, changed), message: `step ${spec.id}${host ? ` on ${host}` : ''} is blocked: ${check.summary}`, hint: 'the step changed nothing; ' + (await resumeHint(run, spec.id)) } };
    case 'done':
      life.end('unchanged');
      return { outputs: check.outputs ?? {} };
    case 'ready':
      break;
  }
  if (!action.apply && !action.verify) {
    life.end('unchanged');
    return { outputs: check.outputs ?? {} };
  }
  try {
    const applied = await applyAndVerify(life, spec, action, stepContext(run, spec, host, 'run', [], warn), params, check);
    life.end(action.apply ? 'changed' : 'unchanged');
    return { outputs: { ...check.outputs, ...applied.outputs } };
  } catch (error) {
    const message = sentenceOf(error);
    life.end('failed', message);
    if (interrupt.controller.signal.aborted) return { stop: interrupted(changed, spec.id) };
    if (spec.ignoreErrors) {
      warn(`step ${spec.id} failed (ignore_errors: the run goes on): ${message}`);
      return {};
    }
    return { stop: { ...ended('failed', 1, changed), message: `step ${spec.id}${host ? ` on ${host}` : ''} failed: ${message}`, hint: await resumeHint(run, spec.id) } };
  }
}

function interrupted(changed: string[], stoppedStep?: string): RunResult {
  const error = new AbortedError(
    stoppedStep
      ? `interrupted twice (Ctrl-C): step ${stoppedStep} was stopped and recorded as failed`
      : 'interrupted (Ctrl-C); the current step finished and was recorded',
  );
  return { ...ended('aborted', 130, changed), message: error.message, hint: 'rerun the same command to resume: done steps are not applied again' };
}

async function resumeHint(run: RunContext, stepId: string): Promise<string> {
  // A step that failed because a host died a moment ago (a host-to-host rsync, a memcached
  // on it) may come before that host's SSH keepalive noticed: ask every host once, so the
  // advice fits the site as it is (a lost old primary calls for a failover, not a rerun).
  await run.pool.confirmOpenHosts();
  const lost = [...run.inventory.hosts.keys()].filter((host) => run.pool.lostDuringRun(host));
  const instead = lost.map((host) => run.whenLost?.(host)).find((hint) => hint);
  if (instead) return instead;
  const again = run.resumeCommand ?? run.commandLine;
  return `fix the cause, then resume with \`${again}\` (steps already done answer done and are not applied again; \`--from-step ${stepId}\` starts at this step)`;
}

