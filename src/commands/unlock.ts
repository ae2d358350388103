import { AbortedError, RefusedError } from '../errors.js';
import { loadInventory } from '../inventory/load.js';
import type { LockState } from '../engine/lock-judge.js';
import { describeOwner } from '../engine/lock-owner.js';
import { surveyLocks, type FoundLock } from '../engine/lock-survey.js';
import { resolveStateDir } from '../engine/state-dir.js';
import { HostPool } from '../transports/pool.js';
import { inventoryPath, type CommonOptions } from './options.js';
import { terminalPrompter } from './prompter.js';
import { confirmByTyping } from './typed-confirm.js';

export interface UnlockOptions extends CommonOptions {
  force?: boolean;
}

type Outcome = 'removed' | 'kept' | 'changed';

const LABEL: Record<LockState, string> = {
  stale: 'stale',
  live: 'live, kept',
  unjudged: 'held from another machine, kept unless --force',
  young: 'kept for now',
};

/**
 * `mirrorctl unlock [-y] [--force]`: removes the site's stale locks after confirmation; a live run's
 * lock always stays; another machine's only with --force. Exit 0 when no lock is left, else 4.
 */
export async function unlockCommand(options: UnlockOptions): Promise<number> {
  const inventory = await loadInventory(inventoryPath(options));
  const site = inventory.site;
  const say = (line: string) => (options.json ? process.stderr : process.stdout).write(`${line}\n`);
  const pool = new HostPool(inventory);
  try {
    const survey = await surveyLocks(inventory, resolveStateDir(options.stateDir), pool);
    for (const { where, why } of survey.unanswered) say(`${where}: not checked: ${why}`);
    for (const lock of survey.locks) say(`${lock.where}: ${lock.path} (${LABEL[lock.verdict.state]}): held by ${describeOwner(lock.look.owner)}; ${lock.verdict.reason}`);
    if (survey.locks.length === 0 && survey.unanswered.length === 0) say(`no locks held for site ${site}`);

    const removable = survey.locks.filter((l) => l.verdict.state === 'stale' || (options.force && l.verdict.state === 'unjudged'));
    if (removable.length > 0 && !options.yes) await confirm(site, removable);
    const outcomes = new Map<FoundLock, Outcome>(survey.locks.map((l) => [l, 'kept']));
    for (const lock of removable) outcomes.set(lock, await lock.remove());

    const removed = [...outcomes.values()].filter((o) => o === 'removed').length;
    const kept = survey.locks.filter((l) => outcomes.get(l) !== 'removed');
    if (removed > 0) say(`removed ${removed} lock(s) of site ${site}`);
    for (const lock of kept) say(`kept: ${lock.where}: ${lock.path}${outcomes.get(lock) === 'changed' ? ' (it changed since it was read: another run took it?)' : ''}; ${nextStep(lock)}`);
    const exitCode = kept.length > 0 || survey.unanswered.length > 0 ? 4 : 0;
    if (options.json) {
      process.stdout.write(
        JSON.stringify({
          site,
          locks: survey.locks.map((l) => ({ host: l.host, path: l.path, state: l.verdict.state, reason: l.verdict.reason, owner: l.look.owner, result: outcomes.get(l) })),
          unanswered: survey.unanswered.map((u) => ({ host: u.where, message: u.why })),
          exit_code: exitCode,
        }) + '\n',
      );
    }
    return exitCode;
  } finally {
    await pool.closeAll();
  }
}

/** Asks before removing: a yes/no for stale locks; the site name typed when another machine's locks would go too. */
async function confirm(site: string, removable: FoundLock[]): Promise<void> {
  const foreign = removable.filter((l) => l.verdict.state === 'unjudged').length;
  if (!(process.stdin.isTTY && process.stderr.isTTY)) {
    throw new RefusedError('unlock needs confirmation and no terminal can give it; no lock was removed', {
      hint: foreign > 0 ? 'rerun with -y --force once you are sure the runs holding them are gone' : 'rerun with -y to remove the stale locks listed',
    });
  }
  const ok =
    foreign > 0
      ? await confirmByTyping(`Remove ${removable.length} lock(s) of site ${site}, ${foreign} of them held from another machine whose run mirrorctl cannot see?`, site)
      : await terminalPrompter().confirm(`Remove ${removable.length} stale lock(s) of site ${site}?`);
  if (!ok) throw new AbortedError('declined; no lock was removed');
}

/** What the operator can do about a lock that stays. */
function nextStep(lock: FoundLock): string {
  switch (lock.verdict.state) {
    case 'live':
      return 'its run is still going: wait for it, or stop it (Ctrl-C where it runs)';
    case 'young':
      return 'run `mirrorctl unlock` again in a minute if no run is starting';
    case 'unjudged':
      return 'once you are sure its run is gone, `mirrorctl unlock --force` removes it';
    default:
      return 'run `mirrorctl unlock` again';
  }
}
