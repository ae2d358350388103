// Whether a site lock is stale, judged where it lives (spec section 6). Pure: the
// caller reads the machine, the lock and the owner's process in one go, then asks here.
import { readableOwner, type LockOwner } from './lock-owner.js';
import type { MachineIdentity, ProcessSeen } from './machine-identity.js';

/** A lock without a readable owner younger than this may be one being taken right now. */
export const UNOWNED_STALE_AFTER_MS = 60_000;

/**
 * stale: its run is provably gone; live: its run is running; unjudged: its owner ran on
 * another machine (or recorded too little to tell); young: no readable owner, under a minute old.
 */
export type LockState = 'stale' | 'live' | 'unjudged' | 'young';

export interface LockVerdict {
  state: LockState;
  /** Why, in words for the operator: "pid 42 is gone", "owned from another machine (…)". */
  reason: string;
}

/** What was read where the lock lives, in one go. */
export interface LockSighting {
  /** The machine the lock lives on. */
  here: MachineIdentity;
  /** owner.json parsed; null when missing or unreadable. */
  owner: Partial<LockOwner> | null;
  /** Age of the lock directory by that machine's clock; null when unknown. */
  ageMs: number | null;
  /** The owner's pid on that machine; null when the owner names no pid. */
  process: ProcessSeen | null;
}

/** The same non-empty machine id, boot id, hostname and pid namespace: two containers on one host are two machines. */
export function sameMachine(a: Partial<MachineIdentity>, b: Partial<MachineIdentity>): boolean {
  return sameHostNamespace(a, b) && same(a.boot_id, b.boot_id);
}

/** The same machine id, hostname and pid namespace, booted again since. */
export function rebootedSince(owner: Partial<MachineIdentity>, here: Partial<MachineIdentity>): boolean {
  return sameHostNamespace(owner, here) && nonEmpty(owner.boot_id) && nonEmpty(here.boot_id) && owner.boot_id !== here.boot_id;
}

/** Judges one lock from what was read where it lives. */
export function judgeLock(sighting: LockSighting): LockVerdict {
  const { owner, here, ageMs } = sighting;
  if (!readableOwner(owner)) {
    if (ageMs !== null && ageMs > UNOWNED_STALE_AFTER_MS) return { state: 'stale', reason: `no readable owner.json and ${Math.round(ageMs / 1000)} s old` };
    const age = ageMs === null ? 'of unknown age' : `only ${Math.max(0, Math.round(ageMs / 1000))} s old`;
    return { state: 'young', reason: `no readable owner.json, ${age}: a run may be taking it right now` };
  }
  if (rebootedSince(owner, here)) return { state: 'stale', reason: `${here.hostname} rebooted since (boot id ${short(owner.boot_id)} then, ${short(here.boot_id)} now)` };
  if (!sameMachine(owner, here)) return { state: 'unjudged', reason: `owned from another machine (${machineLabel(owner)}; this is ${machineLabel(here)}), so it cannot be judged here` };
  const pid = owner.pid;
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0 || sighting.process === null) {
    return { state: 'unjudged', reason: 'its owner.json records no pid, so it cannot be judged' };
  }
  const seen = sighting.process;
  if (seen.state === 'gone') return { state: 'stale', reason: `pid ${pid} is gone` };
  if (typeof owner.start_time === 'number' && seen.startTime !== null && seen.startTime !== owner.start_time) {
    return { state: 'stale', reason: `pid ${pid} is now another process (started at tick ${seen.startTime}, the owner at ${owner.start_time})` };
  }
  return { state: 'live', reason: `pid ${pid} is still running on ${here.hostname}` };
}

/**
 * A host's lock that cannot be judged on the host, because its owner ran on the control machine
 * that is asking, is judged on that control machine instead: there its pid means something.
 */
export function judgeFromControl(sighting: LockSighting, control: Pick<LockSighting, 'here' | 'process'>): LockVerdict {
  const verdict = judgeLock(sighting);
  const owner = sighting.owner;
  if (verdict.state !== 'unjudged' || !readableOwner(owner)) return verdict;
  if (!sameMachine(owner, control.here) && !rebootedSince(owner, control.here)) return verdict;
  const again = judgeLock({ ...sighting, ...control });
  return again.state === 'unjudged' ? verdict : { ...again, reason: `its owner ran on this control machine: ${again.reason}` };
}

function sameHostNamespace(a: Partial<MachineIdentity>, b: Partial<MachineIdentity>): boolean {
  return same(a.machine_id, b.machine_id) && same(a.hostname, b.hostname) && same(a.pid_ns, b.pid_ns);
}

function same(a: string | undefined, b: string | undefined): boolean {
  return nonEmpty(a) && a === b;
}

function nonEmpty(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

function machineLabel(m: Partial<MachineIdentity> & { control_host?: string }): string {
  const name = m.hostname || m.control_host || '?';
  if (!nonEmpty(m.machine_id)) return `${name}, no machine id recorded`;
  return `${name}, machine id ${short(m.machine_id)}, ${m.pid_ns || 'pid namespace ?'}`;
}

function short(id: string | undefined): string {
  return id ? id.replace(/-/g, '').slice(0, 8) : '?';
}
