import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BlockedError, LockHeldError } from '../errors.js';
import { LocalTransport } from '../transports/local.js';
import { sh } from '../transports/quote.js';
import type { HostPool } from '../transports/pool.js';
import type { Transport } from '../transports/types.js';
import { judgeLock } from './lock-judge.js';
import { describeOwner, parseOwner, type LockOwner } from './lock-owner.js';
import { acquireScript, lookAt, parseLook, type LockLook } from './lock-probe.js';

export const HOST_LOCK_ROOT = '/run/mirrorctl';
export const CONTROL_MACHINE = 'the control machine';
/** How long one host may take to answer a lock command. */
const LOCK_COMMAND_MS = 10_000;

export function controlLockDir(stateDir: string, site: string): string {
  return join(stateDir, 'locks', site);
}

export function hostLockDir(site: string): string {
  return `${HOST_LOCK_ROOT}/${site}.lock`;
}

/** The control machine's shell, to read its lock the same way a host's is read. */
export function controlShell(): Transport {
  return new LocalTransport(CONTROL_MACHINE);
}

interface Held {
  where: string;
  release(): Promise<void>;
}

/** The site lock held by one run: the control machine's, then each host's in name order. */
export class SiteLock {
  private readonly held: Held[] = [];
  /** Places whose release has not finished yet (a release under way included). */
  private readonly pending = new Set<string>();
  private releasing: Promise<void> = Promise.resolve();

  constructor(
    private readonly owner: LockOwner,
    private readonly site: string,
    private readonly stateDir: string,
    private readonly pool: HostPool,
  ) {}

  /**
   * Takes the control machine's lock, then each host's in name order (a lock this run already
   * holds is not taken again); every lock or none: on a held lock (exit 4) or one that cannot
   * be taken (exit 3), releases what it took and throws.
   */
  async acquire(hosts: string[]): Promise<void> {
    const holds = (where: string) => this.held.some((h) => h.where === where);
    try {
      if (!holds(CONTROL_MACHINE)) await this.lockControl();
      for (const host of [...new Set(hosts)].sort()) if (!holds(host)) await this.lockHost(host);
    } catch (error) {
      await this.release();
      throw error;
    }
  }

  /** Gives back every lock taken, all in parallel (each host bounded): one host that does not answer holds up no other. */
  release(): Promise<void> {
    const taken = this.held.splice(0);
    const one = (h: Held) => h.release().then(() => void this.pending.delete(h.where), () => undefined);
    const now = Promise.all(taken.map(one)).then(() => undefined);
    this.releasing = Promise.all([this.releasing, now]).then(() => undefined);
    return this.releasing;
  }

  /** Where a lock this run took may remain (its release failed, e.g. the host's connection was lost). */
  stillHeld(): string[] {
    return [...this.pending];
  }

  /** Releases within `ms` at most (a host that does not answer must not hold up an exit); returns where a lock may remain. */
  async releaseWithin(ms: number): Promise<string[]> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
    await Promise.race([this.release(), deadline]);
    clearTimeout(timer);
    return [...this.pending];
  }

  private take(where: string, release: () => Promise<void>): void {
    this.pending.add(where);
    this.held.push({ where, release });
  }

  private async lockControl(): Promise<void> {
    const dir = controlLockDir(this.stateDir, this.site);
    try {
      await mkdir(join(this.stateDir, 'locks'), { recursive: true });
      await mkdir(dir);
    } catch (error) {
      if (!(await isDirectory(dir))) throw cannotLock(CONTROL_MACHINE, fsCause(error));
      const look = await lookAt(controlShell(), dir, LOCK_COMMAND_MS);
      if ('failed' in look) throw cannotLock(CONTROL_MACHINE, `${dir} exists but could not be read: ${look.failed}`);
      if (look.owner?.run_id === this.owner.run_id) return;
      throw held(this.site, CONTROL_MACHINE, look, dir);
    }
    try {
      await writeFile(join(dir, 'owner.json'), JSON.stringify(this.owner, null, 2) + '\n');
    } catch (error) {
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      throw cannotLock(CONTROL_MACHINE, fsCause(error));
    }
    this.take(CONTROL_MACHINE, () => releaseControl(dir, this.owner.run_id));
  }

  private async lockHost(host: string): Promise<void> {
    const transport = await this.pool.get(host);
    const dir = hostLockDir(this.site);
    // A lock released between our mkdir and our look is simply tried again.
    for (let attempt = 1; ; attempt++) {
      const result = await transport.exec(acquireScript(HOST_LOCK_ROOT, dir, JSON.stringify(this.owner)), { timeoutMs: LOCK_COMMAND_MS });
      if (result.exitCode !== 0) {
        throw cannotLock(host, result.timedOut ? `no answer within ${LOCK_COMMAND_MS / 1000} s` : result.stderr.trim().split('\n').at(-1) || `exit ${result.exitCode}`);
      }
      const look = parseLook(result.stdout);
      if ('acquired' in look.answers) {
        this.take(host, async () => void (await transport.exec(releaseScript(dir, this.owner.run_id), { timeoutMs: LOCK_COMMAND_MS })));
        return;
      }
      if (look.answers.cannot !== undefined) throw cannotLock(host, shellCause(look.answers.cannot));
      if (look.lock === 'held') {
        if (look.owner?.run_id === this.owner.run_id) return;
        throw held(this.site, host, look, dir);
      }
      if (look.lock === 'not-a-directory') throw cannotLock(host, `${dir} exists and is not a directory`);
      if (attempt >= 3) throw cannotLock(host, shellCause(look.answers.mkdir ?? ''));
    }
  }
}

/** Removes a host lock only when it is still ours. */
function releaseScript(dir: string, runId: string): string {
  return sh`grep -qF ${runId} ${dir}/owner.json 2>/dev/null && rm -rf ${dir}; true`;
}

/** Removes the control machine's lock only when it is still ours (an `unlock --force` may have handed it on). */
async function releaseControl(dir: string, runId: string): Promise<void> {
  const owner = parseOwner(await readFile(join(dir, 'owner.json'), 'utf8').catch(() => ''));
  if (owner?.run_id === runId) await rm(dir, { recursive: true, force: true });
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

/** "read-only file system (/run/mirrorctl)" from a Node file-system error. */
function fsCause(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  const what: Record<string, string> = {
    EEXIST: 'exists and is not a directory',
    ENOTDIR: 'has a file where a directory should be',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on device',
    EDQUOT: 'disk quota exceeded',
  };
  return e.code && what[e.code] ? `${e.path ?? 'path'}: ${what[e.code]}` : e.message;
}

/** mkdir's own words; its "File exists" for a path that is no directory says so. */
function shellCause(message: string): string {
  if (!message) return 'no reason given';
  return /: File exists$/.test(message) ? `${message} (a file where a directory should be)` : message;
}

function cannotLock(where: string, cause: string): BlockedError {
  return new BlockedError(`could not take the site lock on ${where}: ${cause}`, {
    hint: 'nothing was changed; fix that (a writable directory for the lock), then run again',
  });
}

function held(site: string, where: string, look: LockLook, path: string): LockHeldError {
  const verdict = judgeLock(look);
  const judged = verdict.state === 'stale' ? `; it is stale (${verdict.reason})` : verdict.state === 'live' ? '' : `; ${verdict.reason}`;
  return new LockHeldError(`site ${site} is locked on ${where} by ${describeOwner(look.owner)} (${path})${judged}`, {
    hint:
      verdict.state === 'stale'
        ? 'remove it with `mirrorctl unlock`'
        : verdict.state === 'unjudged'
          ? 'wait for that run to finish; if it is gone, `mirrorctl unlock --force` removes it'
          : 'wait for that run to finish, or if it is gone, run `mirrorctl unlock`',
  });
}
