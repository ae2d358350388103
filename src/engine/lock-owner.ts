import { hostname, userInfo } from 'node:os';
import { startTimeOf, thisMachine, type MachineIdentity } from './machine-identity.js';

/**
 * What every lock records about the run holding it (spec section 6): the run, and the
 * machine and process it runs as, so a lock can later be judged stale or live.
 */
export interface LockOwner extends MachineIdentity {
  run_id: string;
  user: string;
  control_host: string;
  pid: number;
  command: string;
  started_at: string;
  /** Clock ticks since boot (field 22 of /proc/PID/stat): tells a reused pid from the owner. */
  start_time: number | null;
}

/** The owner record of this process's run. */
export async function currentOwner(runId: string, command: string): Promise<LockOwner> {
  const machine = await thisMachine();
  return {
    run_id: runId,
    user: safeUser(),
    control_host: hostname(),
    pid: process.pid,
    command,
    started_at: new Date().toISOString(),
    ...machine,
    start_time: await startTimeOf('self'),
  };
}

/** "run X (root@ctl, pid 42, `mirrorctl switchover`, since …)" */
export function describeOwner(owner: Partial<LockOwner> | null): string {
  if (!readableOwner(owner)) return 'an unknown run (no readable owner.json)';
  return `run ${owner.run_id} (${owner.user ?? '?'}@${owner.control_host ?? '?'}, pid ${owner.pid ?? '?'}, \`${owner.command ?? '?'}\`, since ${owner.started_at ?? '?'})`;
}

/** An owner.json that parsed and names its run; older files without the machine fields still count. */
export function readableOwner(owner: Partial<LockOwner> | null): owner is Partial<LockOwner> & { run_id: string } {
  return owner !== null && typeof owner.run_id === 'string' && owner.run_id !== '';
}

export function parseOwner(text: string): Partial<LockOwner> | null {
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Partial<LockOwner>) : null;
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
