import { Socket, connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { execa } from 'execa';
import { DEFAULT_COMMAND_TIMEOUT_MS, type CommandResult, type ExecOptions, type Transport } from './types.js';

/** Runs commands on the control machine (hosts with `local: true`). */
export class LocalTransport implements Transport {
  constructor(readonly host: string) {}

  async exec(command: string, options: ExecOptions = {}): Promise<CommandResult> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    const started = performance.now();
    // Own process group: the terminal's Ctrl-C reaches mirrorctl, not the command,
    // so the engine decides when a step stops. The whole group is killed on timeout.
    const child = execa('/bin/sh', ['-c', command], {
      reject: false,
      detached: true,
      cleanup: true,
      stripFinalNewline: false,
      input: options.input ?? '',
      env: { LC_ALL: 'C' },
    });
    let timedOut = false;
    const killGroup = (signal: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup('SIGTERM');
      setTimeout(() => killGroup('SIGKILL'), 1000).unref();
    }, timeoutMs);
    const onAbort = () => killGroup('SIGKILL');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const result = await child;
      return {
        command,
        host: this.host,
        exitCode: result.exitCode ?? null,
        signal: result.signal ?? null,
        stdout: String(result.stdout ?? ''),
        stderr: String(result.stderr ?? ''),
        durationMs: Math.round(performance.now() - started),
        timedOut,
      };
    } finally {
      clearTimeout(timer);
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
