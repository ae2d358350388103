import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LockHeldError } from '../errors.js';
import { sh } from '../transports/quote.js';
import type { HostPool } from '../transports/pool.js';
import { describeOwner, parseOwner, type LockOwner } from './lock-owner.js';

export const HOST_LOCK_ROOT = '/run/mirrorctl';

export function controlLockDir(stateDir: string, site: string): string {
  return join(stateDir, 'locks', site);
}

export function hostLockDir(site: string): string {
  return `${HOST_LOCK_ROOT}/${site}.lock`;
}

/** The site lock held by one run: the control machine's, then each host's in name order. */
export class SiteLock {
  private readonly held: Array<() => Promise<void>> = [];

  constructor(
    private readonly owner: LockOwner,
    private readonly site: string,
    private readonly stateDir: string,
    private readonly pool: HostPool,
  ) {}

  /** Takes every lock or none: on a held lock, releases what it took and throws LockHeldError naming the holder. */
  async acquire(hosts: string[]): Promise<void> {
    try {
      await this.lockControl();
      for (const host of [...new Set(hosts)].sort()) await this.lockHost(host);
    } catch (error) {
      await this.release();
      throw error;
    }
  }

  async release(): Promise<void> {
    const releases = this.held.splice(0).reverse();
    for (const release of releases) await release().catch(() => undefined);
  }

  private async lockControl(): Promise<void> {
    const dir = controlLockDir(this.stateDir, this.site);
    await mkdir(join(this.stateDir, 'locks'), { recursive: true });
    try {
      await mkdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = parseOwner(await readFile(join(dir, 'owner.json'), 'utf8').catch(() => ''));
      if (holder?.run_id === this.owner.run_id) return;
      throw held(this.site, 'the control machine', holder, dir);
    }
    await writeFile(join(dir, 'owner.json'), JSON.stringify(this.owner, null, 2) + '\n');
    this.held.push(() => rm(dir, { recursive: true, force: true }));
  }

  private async lockHost(host: string): Promise<void> {
    const transport = await this.pool.get(host);
    const dir = hostLockDir(this.site);
    const owner = JSON.stringify(this.owner);
    const script = sh`mkdir -p ${HOST_LOCK_ROOT} && if mkdir ${dir} 2>/dev/null; then printf '%s\n' ${owner} > ${dir}/owner.json && echo acquired; else cat ${dir}/owner.json 2>/dev/null; echo; echo held; fi`;
    const result = await transport.exec(script, { timeoutMs: 10_000 });
    const lines = result.stdout.trim().split('\n');
    if (result.exitCode !== 0 || lines.length === 0) throw new LockHeldError(`could not take the site lock on ${host}: ${result.stderr.trim() || 'no answer'}`);
    if (lines.at(-1) === 'acquired') {
      this.held.push(async () => {
        await transport.exec(releaseScript(dir, this.owner.run_id), { timeoutMs: 10_000 });
      });
      return;
    }
    const holder = parseOwner(lines.slice(0, -1).join('\n').trim());
    if (holder?.run_id === this.owner.run_id) return;
    throw held(this.site, host, holder, dir);
  }
}

/** Removes a host lock only when it is still ours. */
function releaseScript(dir: string, runId: string): string {
  return sh`grep -qF ${runId} ${dir}/owner.json 2>/dev/null && rm -rf ${dir}; true`;
}

function held(site: string, where: string, holder: Partial<LockOwner> | null, path: string): LockHeldError {
  return new LockHeldError(`site ${site} is locked on ${where} by ${describeOwner(holder)} (${path})`, {
    hint: 'wait for that run to finish, or if it is gone, run `mirrorctl unlock`',
  });
}
