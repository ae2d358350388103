import { spawn } from 'node:child_process';

// Runs a program and times it from spawn to exit (wall clock), capturing its output.

export interface TimedRun {
  command: string;
  ms: number;
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface TimedOptions {
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  cwd?: string;
}

/** Spawns `file args`, resolves when it exits (never rejects; a spawn error is exit code null). */
export function timedRun(file: string, args: readonly string[], options: TimedOptions = {}): Promise<TimedRun> {
  return new Promise((resolve) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const started = performance.now();
    const child = spawn(file, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 120_000);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const done = (exitCode: number | null, signal: string | null, extra = '') => {
      clearTimeout(timer);
      resolve({
        command: [file, ...args].join(' '),
        ms: performance.now() - started,
        exitCode,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8') + extra,
        timedOut,
      });
    };
    child.on('error', (error) => done(null, null, String(error)));
    child.on('close', (code, signal) => done(code, signal));
  });
}

/** One line saying why a run failed: exit status and the last meaningful line of its output. */
export function failureReason(run: TimedRun): string {
  const status = run.timedOut ? 'timed out' : run.exitCode === null ? `killed by ${run.signal ?? 'a signal'}` : `exit ${run.exitCode}`;
  const lines = `${run.stderr}\n${run.stdout}`
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('{'));
  const why = lines.find((l) => /^error|failed|blocked|refused|not |cannot|unknown/i.test(l)) ?? lines.at(-1) ?? '';
  return why ? `${status}: ${why.slice(0, 200)}` : status;
}
