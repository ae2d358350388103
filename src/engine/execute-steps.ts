import type { CheckResult } from '../actions/types.js';
import { AbortedError } from '../errors.js';
import { SKIPPED } from '../playbook/templates.js';
import type { StepSpec } from '../playbook/schema.js';
import { applyAndVerify, messageOf } from './apply-step.js';
import { stepContext, type RunContext } from './context.js';
import { since } from './duration.js';
import type { StepOutcome } from './events.js';
import type { Interrupt } from './interrupt.js';
import { templateScope } from './plan.js';
import { checkStep } from './check-step.js';
import { notRepeated, resumedCheck, resumeIndex } from './resume.js';
import { ended, type RunResult, type StepOutputs } from './run-result.js';

/** The apply phase: for each step, check again with real values, then apply and verify. */
export async function executeSteps(run: RunContext, interrupt: Interrupt): Promise<RunResult> {
  const outputs: StepOutputs = new Map();
  const changed: string[] = [];
  const fromIndex = resumeIndex(run);
  let stop: RunResult | null = null;

  for (const [index, spec] of run.steps.entries()) {
    const started = performance.now();
    let recorded = false;
    const end = (outcome: StepOutcome, error?: string) => {
      if (recorded) return;
      recorded = true;
      run.bus.emit({ event: 'step.end', step: spec.id, outcome, ms: since(started), ...(error ? { error } : {}) });
    };
    // A second Ctrl-C that this step does not answer in time still records it before the process exits.
    const forget = interrupt.beforeHardStop(() => end('failed', 'stopped at once by a second Ctrl-C before it ended'));
    try {
      if (stop === null && interrupt.requested) stop = interrupted(changed);
      if (stop !== null) {
        outputs.set(spec.id, SKIPPED);
        end('skipped');
        continue;
      }
      if (run.confirmEachStep && !(await run.prompter.confirm(`Run step ${spec.id} (${spec.action})?`))) {
        stop = { ...ended('aborted', 130, changed), message: `declined at step ${spec.id}`, hint: await resumeHint(run, spec.id) };
        outputs.set(spec.id, SKIPPED);
        end('skipped');
        continue;
      }

      const action = run.actions.get(spec.action)!;
      const resuming = index < fromIndex ? run.fromStep : null;
      const skip = resuming ? notRepeated(action, resuming) : null;
      if (skip) {
        outputs.set(spec.id, SKIPPED);
        checkEvent(run, spec, null, skip, started);
        end('skipped');
        continue;
      }
      const warn = (message: string) => run.bus.notice({ level: 'warn', message, step: spec.id });
      const checked = await checkStep(run, spec, action, templateScope(run, outputs), 'run', [], warn);
      const { host, params } = checked;
      // Before --from-step a step is only checked: done supplies its outputs, anything else blocks.
      const check = resuming ? resumedCheck(spec, checked.check, resuming) : checked.check;
      checkEvent(run, spec, host, check, started);

      if (check.status === 'skipped') {
        outputs.set(spec.id, SKIPPED);
        end('skipped');
        continue;
      }
      if (check.status === 'blocked') {
        outputs.set(spec.id, SKIPPED);
        end('blocked', check.summary);
        if (spec.ignoreErrors) {
          warn(`step ${spec.id} is blocked (ignore_errors: the run goes on): ${check.summary}`);
          continue;
        }
        stop = { ...ended('blocked', 3, changed), message: `step ${spec.id}${host ? ` on ${host}` : ''} is blocked: ${check.summary}`, hint: 'the step changed nothing; ' + (await resumeHint(run, spec.id)) };
        continue;
      }
      if (check.status === 'done') {
        outputs.set(spec.id, check.outputs ?? {});
        end('unchanged');
        continue;
      }
      if (!action.apply && !action.verify) {
        outputs.set(spec.id, check.outputs ?? {});
        end('unchanged');
        continue;
      }
      try {
        const applied = await applyAndVerify(run.bus, spec, action, stepContext(run, spec, host, 'run', [], warn), params, check);
        outputs.set(spec.id, { ...check.outputs, ...applied.outputs });
        if (action.apply) {
          changed.push(spec.id);
          end('changed');
        } else {
          end('unchanged');
        }
      } catch (error) {
        outputs.set(spec.id, SKIPPED);
        const message = messageOf(error);
        end('failed', message);
        if (spec.ignoreErrors && !interrupt.controller.signal.aborted) {
          warn(`step ${spec.id} failed (ignore_errors: the run goes on): ${message}`);
          continue;
        }
        stop = interrupt.controller.signal.aborted
          ? interrupted(changed, spec.id)
          : { ...ended('failed', 1, changed), message: `step ${spec.id}${host ? ` on ${host}` : ''} failed: ${message}`, hint: await resumeHint(run, spec.id) };
      }
    } finally {
      forget();
    }
  }
  return stop ?? ended('succeeded', 0, changed);
}

function checkEvent(run: RunContext, spec: StepSpec, host: string | null, check: CheckResult, started: number): void {
  run.bus.emit({ event: 'step.check', step: spec.id, action: spec.action, host, phase: 'run', status: check.status, summary: check.summary, ms: since(started) });
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

