// A real terminal for interactive commands: util-linux `script` gives the command a
// pty; each answer is typed only once its question is on the screen (no sleeps).
import { spawn } from 'node:child_process';
import { BIN } from './cli.js';

export interface Exchange {
  /** Waits until the screen (since the previous question) shows this. */
  expect: RegExp;
  /** Then types this (`\r` is Enter, `\x03` Ctrl-C). */
  send: string;
}

export interface PtyResult {
  code: number | null;
  /** Everything the terminal showed, colour and cursor codes removed. */
  screen: string;
  /** Questions that never appeared (empty when the dialogue went as written). */
  unanswered: string[];
}

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\x1b[=>78]/g;

/** Runs `mirrorctl ARGS` on a pty and answers each question in turn. */
export function onPty(args: string[], dialogue: Exchange[], options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<PtyResult> {
  const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve, reject) => {
    // A wide terminal, so that no question is wrapped in the middle of what a test looks for.
    const child = spawn('script', ['-qfec', `stty cols 250 rows 50 2>/dev/null; exec ${command}`, '/dev/null'], {
      cwd: options.cwd,
      env: { ...process.env, NO_COLOR: '1', TERM: 'xterm', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let raw = '';
    let from = 0;
    const pending = [...dialogue];
    const advance = () => {
      const screen = raw.replace(ANSI, '');
      while (pending.length > 0) {
        const match = pending[0]!.expect.exec(screen.slice(from));
        if (!match) return;
        from += match.index + match[0].length;
        child.stdin.write(pending.shift()!.send);
      }
    };
    child.stdout.on('data', (d: Buffer) => {
      raw += d.toString();
      advance();
    });
    child.stderr.on('data', (d: Buffer) => (raw += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, screen: raw.replace(ANSI, ''), unanswered: pending.map((p) => String(p.expect)) });
    });
  });
}
