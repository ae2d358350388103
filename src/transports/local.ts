import { spawn, type ChildProcess } from 'node:child_process';
import { Socket, connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { DEFAULT_COMMAND_TIMEOUT_MS, type CommandResult, type ExecOptions, type Transport } from './types.js';

// node:child_process rather than execa here: execa takes ~180 ms to import on a 2-core
// machine, and the control machine's lock (engine/lock.ts) runs through this transport in
// every run, between the plan and the first step (inside a failover's outage). What execa
// would add (cleanup on exit, the process group) is the few lines below.

/** Process groups of commands still running, killed if mirrorctl exits first. */
const running = new Set<number>();
let exitHookInstalled = false;

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Runs commands on the control machine (hosts with `local: true`). */
export class LocalTransport implements Transport {
  constructor(readonly host: string) {}

  async exec(command: string, options: ExecOptions = {}): Promise<CommandResult> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    const started = performance.now();
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', () => running.forEach((pid) => killGroup(pid, 'SIGKILL')));
    }
    // Own process group: the terminal's Ctrl-C reaches mirrorctl, not the command,
    // so the engine decides when a step stops. The whole group is killed on timeout.
    const child: ChildProcess = spawn('/bin/sh', ['-c', command], { detached: true, env: { ...process.env, LC_ALL: 'C' }, stdio: ['pipe', 'pipe', 'pipe'] });
    if (child.pid !== undefined) running.add(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin!.on('error', () => undefined); // a command that does not read its input
    child.stdin!.end(options.input ?? '');
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid, 'SIGTERM');
      setTimeout(() => killGroup(child.pid, 'SIGKILL'), 1000).unref();
    }, timeoutMs);
    const onAbort = () => killGroup(child.pid, 'SIGKILL');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const { exitCode, signal } = await new Promise<{ exitCode: number | null; signal: string | null }>((resolve) => {
        child.once('error', (error: NodeJS.ErrnoException) => {
          stderr += `${error.message}\n`;
          resolve({ exitCode: 127, signal: null });
        });
        child.once('close', (code, sig) => resolve({ exitCode: code, signal: sig }));
      });
      return { command, host: this.host, exitCode, signal, stdout, stderr, durationMs: Math.round(performance.now() - started), timedOut };
    } finally {
      clearTimeout(timer);
      if (child.pid !== undefined) running.delete(child.pid);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  forward(port: number, address = '127.0.0.1'): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      const socket: Socket = connect({ port, host: address });
      socket.once('connect', () => resolve(socket));
      socket.once('error', reject);
    });
  }

  async close(): Promise<void> {}
}
