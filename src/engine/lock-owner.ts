import { hostname, userInfo } from 'node:os';

/** What every lock records about the run holding it (spec section 6). */
export interface LockOwner {
  run_id: string;
  user: string;
  control_host: string;
  pid: number;
  command: string;
  started_at: string;
}

export function currentOwner(runId: string, command: string): LockOwner {
  return {
    run_id: runId,
    user: safeUser(),
    control_host: hostname(),
    pid: process.pid,
    command,
    started_at: new Date().toISOString(),
  };
}

/** "run X (root@ctl, pid 42, `mirrorctl switchover`, since …)" */
export function describeOwner(owner: Partial<LockOwner> | null): string {
  if (!owner || !owner.run_id) return 'an unknown run (no readable owner.json)';
  const stale = owner.control_host === hostname() && typeof owner.pid === 'number' && !alive(owner.pid) ? ', which is no longer running: the lock is stale' : '';
  return `run ${owner.run_id} (${owner.user ?? '?'}@${owner.control_host ?? '?'}, pid ${owner.pid ?? '?'}${stale}, \`${owner.command ?? '?'}\`, since ${owner.started_at ?? '?'})`;
}

export function parseOwner(text: string): Partial<LockOwner> | null {
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' ? (value as Partial<LockOwner>) : null;
  } catch {
    return null;
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

/** Whether a process with this pid exists on this machine (EPERM: it exists, owned by someone else). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
