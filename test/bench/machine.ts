import { cpus, freemem, release, totalmem } from 'node:os';
import { availableParallelism } from 'node:os';
import { readFile } from 'node:fs/promises';

// The machine a bench ran on, for the report.

export interface Machine {
  nproc: number;
  cpu: string;
  memory_gib: number;
  free_memory_gib: number;
  kernel: string;
  os: string;
  node: string;
  load_average: string;
}

export async function describeMachine(): Promise<Machine> {
  const osRelease = await readFile('/etc/os-release', 'utf8').catch(() => '');
  const loadavg = await readFile('/proc/loadavg', 'utf8').catch(() => '');
  return {
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    memory_gib: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    free_memory_gib: Math.round((freemem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    os: /^PRETTY_NAME="?([^"\n]*)"?/m.exec(osRelease)?.[1] ?? 'unknown',
    node: process.version,
    load_average: loadavg.split(' ').slice(0, 3).join(' '),
  };
}
