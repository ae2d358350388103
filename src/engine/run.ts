import { AbortedError, LockHeldError, MirrorError, RefusedError } from '../errors.js';
import type { RunContext } from './context.js';
import type { RunOutcome } from './events.js';
import { since } from './duration.js';
import { makePlan, type Plan } from './plan.js';
import { SiteLock } from './lock.js';
import { currentOwner } from './lock-owner.js';
import { warnAboutHeldLocks } from './lock-peek.js';
import { executeSteps } from './execute-steps.js';
import { ended, type RunResult } from './run-result.js';
import { HARD_STOP_CLEANUP_MS, type Interrupt } from './interrupt.js';

/** plan → lock → confirm → steps → release; emits run.start … run.end. */
export async function executeRun(run: RunContext, interrupt: Interrupt): Promise<RunResult> {
  const started = performance.now();
  run.bus.emit({ event: 'run.start', playbook: run.playbook.name, site: run.inventory.site, dry_run: run.dryRun, params: run.playbook.params });
  const changed: string[] = [];
  run.bus.on((e) => void (e.event === 'step.end' && e.outcome === 'changed' && changed.push(e.step)));
  let finished = false;
  const end = (result: RunResult) => {
    if (finished) return;
    finished = true;
    if (run.probe && !run.probe.summary) run.bus.emit({ event: 'probe.summary', ...run.probe.finishNow(STOPPED_AT_ONCE) });
    run.bus.emit({ event: 'run.end', outcome: result.outcome, exit_code: result.exitCode, ms: since(started), changed: result.changed });
  };
  // A second Ctrl-C that the run does not answer in time still ends the journal.
  const forget = interrupt.beforeHardStop(() => end(ended('aborted', 130, changed)));
  run.probe?.start();
  const result = await planAndExecute(run, interrupt).catch((error: unknown) => fromError(error));
  await finishProbe(run);
  forget();
  end(result);
  return result;
}

const STOPPED_AT_ONCE = { wal_bytes: null, basis: 'the run was stopped at once (a second Ctrl-C) before the site could be asked', old_lsn: null, new_lsn: null };

/** With --probe: a second more of probing while the site is asked for the data-loss verdict, then probe.summary. */
async function finishProbe(run: RunContext): Promise<void> {
  if (!run.probe) return;
  const { judgeDataLoss } = await import('../site/data-loss.js');
  const summary = await run.probe.finish(() => judgeDataLoss(run.pool, run.inventory));
  if (summary) run.bus.emit({ event: 'probe.summary', ...summary });
}

async function planAndExecute(run: RunContext, interrupt: Interrupt): Promise<RunResult> {
  if (run.dryRun) {
    const plan = await makePlan(run);
    if (plan.blocked.length > 0) return blockedBy(plan);
    await warnAboutHeldLocks(run);
    return ended('planned', 0, []);
  }
  const lock = new SiteLock(await currentOwner(run.bus.runId!, run.commandLine), run.inventory.site, run.stateDir, run.pool);
  let locking: Promise<unknown> = Promise.resolve(null);
  const forget = interrupt.beforeHardStop(() => releaseBeforeExit(run, lock, locking));
  try {
    // The site lock is taken while the plan runs, on the hosts the inventory names (a step's
    // other host is locked once the plan knows it): taking it is off a failover's path. A
    // blocked plan still decides the outcome (exit 3) and gives the lock back.
    locking = lockHosts(run, null).then((hosts) => lock.acquire(hosts)).then(
      () => null,
      (error: unknown) => error,
    );
    const plan = await makePlan(run);
    const notLocked = await locking;
    if (plan.blocked.length > 0) return blockedBy(plan);
    if (notLocked) throw notLocked;
    await lock.acquire(await lockHosts(run, plan));
    if (plan.changes && !run.yes) {
      if (!run.interactive) {
        throw new RefusedError(`the plan changes the site and no terminal can confirm it`, { hint: 'rerun with --yes to apply it, or with --dry-run to only look' });
      }
      const count = plan.steps.filter((s) => s.check.status === 'ready' && s.action.changes).length;
      if (!(await run.prompter.confirm(`Apply ${count} change(s) to site ${run.inventory.site}?`))) {
        throw new AbortedError('declined at the confirmation prompt; nothing was changed');
      }
    }
    return await executeSteps(run, interrupt);
  } finally {
    await locking; // a plan that threw must not leave a lock taken after the release
    await lock.release();
    forget();
    const left = lock.stillHeld();
    if (left.length > 0) {
      run.bus.notice({
        level: 'warn',
        message: `the site lock on ${left.join(', ')} could not be released (the host stopped answering); once it answers again, \`mirrorctl unlock -y\` removes it (a run does not lock a host it cannot reach)`,
      });
    }
  }
}

function blockedBy(plan: Plan): RunResult {
  const first = plan.blocked[0]!;
  return {
    ...ended('blocked', 3, []),
    message: `step ${first.spec.id} (${first.spec.action}${first.host ? ` on ${first.host}` : ''}) is blocked: ${first.check.summary}`,
    hint: plan.blocked.length > 1 ? `${plan.blocked.length - 1} more step(s) blocked (${plan.blocked.slice(1).map((s) => s.spec.id).join(', ')}); nothing was changed` : 'nothing was changed',
  };
}

/** A hard stop (second Ctrl-C) still gives the locks back, bounded: a host that does not answer is named instead. */
async function releaseBeforeExit(run: RunContext, lock: SiteLock, locking: Promise<unknown>): Promise<void> {
  // A lock still being taken (it is taken while the plan runs) is waited for first, within the
  // same budget, so it is not taken after the release and left behind unnamed.
  const budget = HARD_STOP_CLEANUP_MS - 500;
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([locking, new Promise<void>((resolve) => (timer = setTimeout(resolve, budget / 2)))]);
  clearTimeout(timer);
  const left = await lock.releaseWithin(Math.max(0, budget - (performance.now() - started)));
  if (left.length > 0) {
    run.bus.notice({ level: 'warn', message: `stopped before the site lock on ${left.join(', ')} was released; check with \`mirrorctl unlock\`` });
  }
}

/** database.hosts, portable_ip.hosts and (once planned) every host a step runs on, when they answer. */
async function lockHosts(run: RunContext, plan: Plan | null): Promise<string[]> {
  const doc = run.inventory.doc;
  const names = new Set<string>([...(doc.database?.hosts ?? []), ...(doc.portable_ip?.hosts ?? []), ...(plan?.steps.flatMap((s) => s.hosts) ?? [])]);
  const reachable = await Promise.all([...names].map((n) => run.pool.reachable(n).catch(() => false)));
  return [...names].filter((_, i) => reachable[i]);
}

/** A typed error ends the run with its own exit code; anything else is a bug and is rethrown. */
function fromError(error: unknown): RunResult {
  if (!(error instanceof MirrorError)) throw error;
  return { ...ended(outcomeOf(error), error.exitCode, []), message: error.message, hint: error.hint ?? null };
}

function outcomeOf(error: MirrorError): RunOutcome {
  if (error instanceof LockHeldError) return 'locked';
  if (error instanceof RefusedError) return 'refused';
  if (error instanceof AbortedError) return 'aborted';
  return error.exitCode === 3 ? 'blocked' : 'failed';
}
