// Which machine (host, VM or container) and which process a lock owner is (spec section 6).
import { readFile, readlink } from 'node:fs/promises';
import { hostname } from 'node:os';

export interface MachineIdentity {
  /** /etc/machine-id, else /var/lib/dbus/machine-id; '' when neither can be read. */
  machine_id: string;
  /** /proc/sys/kernel/random/boot_id: changes at every boot. */
  boot_id: string;
  hostname: string;
  /** readlink /proc/self/ns/pid, e.g. `pid:[4026531836]`: two containers on one host differ here. */
  pid_ns: string;
}

/** What the owner's pid is on the machine where it was looked up. */
export type ProcessSeen =
  | { state: 'gone' }
  /** startTime: clock ticks since boot (field 22 of /proc/PID/stat), null when it could not be read. */
  | { state: 'running'; startTime: number | null };

/** The identity of the machine this process runs on; a part that cannot be read is ''. */
export async function thisMachine(): Promise<MachineIdentity> {
  const read = (file: string) => readFile(file, 'utf8').then((s) => s.trim(), () => '');
  const machineId = (await read('/etc/machine-id')) || (await read('/var/lib/dbus/machine-id'));
  return {
    machine_id: machineId,
    boot_id: await read('/proc/sys/kernel/random/boot_id'),
    hostname: hostname(),
    pid_ns: await readlink('/proc/self/ns/pid').catch(() => ''),
  };
}

/** A process's start time in clock ticks since boot, or null when it cannot be read. */
export async function startTimeOf(pid: number | 'self'): Promise<number | null> {
  return parseStartTime(await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => ''));
}

/** Whether pid runs on this machine, and since when (EPERM or a hidden /proc entry: it runs, start unknown). */
export async function processSeen(pid: number): Promise<ProcessSeen> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  if (stat !== null) return { state: 'running', startTime: parseStartTime(stat) };
  try {
    process.kill(pid, 0);
    return { state: 'running', startTime: null };
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? { state: 'running', startTime: null } : { state: 'gone' };
  }
}

/** Field 22 (starttime) of a /proc/PID/stat line; the command name (field 2) may hold spaces and parentheses. */
export function parseStartTime(stat: string): number | null {
  const close = stat.lastIndexOf(')');
  if (close < 0) return null;
  // After "pid (comm)" come fields 3, 4, …: field 22 is the 20th of them.
  const field = stat.slice(close + 1).trim().split(/\s+/)[19];
  return field !== undefined && /^\d+$/.test(field) ? Number(field) : null;
}
