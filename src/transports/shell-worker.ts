// A long-lived remote shell on one SSH session: commands go to it one at a time over
// stdin, each still bounded by GNU `timeout` on the host, and come back framed with
// their exit status, stdout and stderr. It saves, per command, what a new channel
// costs on the host: a new sshd session, the login shell and `sudo` (about 40 ms each
// on a small host, and far more when several run at once). Anything unusual (an
// abort, a local timeout, a broken frame) retires the worker: it is then closed the
// way a channel is, and the next command gets a fresh one.
import { randomBytes } from 'node:crypto';
import type { Client, ClientChannel } from 'ssh2';
import { quote } from './quote.js';

/** Seconds GNU timeout waits after SIGTERM before SIGKILL (as for a channel). */
export const WORKER_KILL_AFTER_S = 2;

/**
 * The driver: reads "NONCE SECONDS LINES [1]\n" then that many lines of command, runs it under
 * `timeout` with stdin from /dev/null and its output on the session's own stdout and
 * stderr, then ends each stream with "@@NONCE STATUS\n" (NONCE is random, so no output
 * can forge it). With the trailing 1, one more line follows: the command's stdin, escaped
 * for the builtin `printf %b` (see `escapeInput`), which feeds it to the command through a
 * pipe, so it is never on any process's command line. Only builtins besides `timeout` and
 * the command's shell: forks are the cost being saved. A TERM (sshd or sudo relaying a
 * signal) ends the running command's whole process group through `timeout`, then the driver.
 */
const DRIVER = [
  'LC_ALL=C; export LC_ALL',
  'c=',
  `trap '[ -n "$c" ] && kill -TERM "$c" 2>/dev/null; exit 143' TERM HUP INT`,
  "nl='",
  "'",
  `printf '@@mc ready\\n'`,
  'while read -r nonce secs n i; do',
  '  cmd=',
  '  while [ "$n" -gt 0 ]; do IFS= read -r l || exit 1; cmd="$cmd$l$nl"; n=$((n - 1)); done',
  '  if [ "$i" = 1 ]; then',
  '    IFS= read -r l || exit 1',
  `    printf %b "$l" | timeout -k ${WORKER_KILL_AFTER_S} "$secs" /bin/sh -c "$cmd" &`,
  '  else',
  `    timeout -k ${WORKER_KILL_AFTER_S} "$secs" /bin/sh -c "$cmd" </dev/null &`,
  '  fi',
  '  c=$! l=',
  '  wait "$c"; rc=$?',
  '  c=',
  `  printf '@@%s %s\\n' "$nonce" "$rc" >&2`,
  `  printf '@@%s %s\\n' "$nonce" "$rc"`,
  'done',
].join('\n');

/** The command line that starts a worker (as root under `sudo -n` when asked). */
export function workerCommand(sudo: boolean): string {
  const shell = `/bin/sh -c ${quote(DRIVER)}`;
  return sudo ? `sudo -n ${shell}` : shell;
}

/** The largest stdin a command shell carries (a bigger one goes on a channel of its own): the driver reads it a byte at a time. */
export const WORKER_INPUT_MAX_BYTES = 64 * 1024;

/**
 * A command's stdin as one line for `printf %b`: its bytes as they are, except a backslash,
 * a newline and NUL, which become octal escapes (`\0ooo`, which dash, bash and busybox read alike).
 */
export function escapeInput(input: string): Buffer {
  const bytes = Buffer.from(input, 'utf8');
  const out: number[] = [];
  for (const byte of bytes) {
    if (byte === 0x5c || byte === 0x0a || byte === 0x00) out.push(...Buffer.from(`\\0${byte.toString(8).padStart(3, '0')}`));
    else out.push(byte);
  }
  out.push(0x0a);
  return Buffer.from(out);
}

export interface WorkerOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * One stream of the session: bytes since the last command ended, and this command's end
 * once seen. Chunks are kept as they come and joined once, and each search for the end
 * marker looks only at the new bytes (plus a marker's length before them): a command with
 * megabytes of output costs no more than on a channel of its own.
 */
class Stream {
  private chunks: Buffer[] = [];
  private length = 0;
  /** How far the marker has been looked for (bytes before this cannot start it). */
  private searched = 0;
  output: Buffer | null = null;
  status: number | null = null;

  /** Bytes received but not yet part of a command's output (before start: the driver's greeting). */
  get buffered(): Buffer {
    return this.joined();
  }

  set buffered(bytes: Buffer) {
    this.chunks = bytes.length > 0 ? [bytes] : [];
    this.length = bytes.length;
    this.searched = 0;
  }

  /** Adds bytes; true once "@@NONCE STATUS\n" has been seen (what came before it is the output). */
  take(chunk: Buffer, marker: Buffer): boolean {
    this.chunks.push(chunk);
    this.length += chunk.length;
    return this.settle(marker);
  }

  settle(marker: Buffer): boolean {
    if (this.output !== null) return true;
    const from = Math.max(0, this.searched - marker.length - 24);
    // The marker and its status line end within the last chunks: search those only.
    let tailStart = this.length;
    let at = this.chunks.length;
    while (at > 0 && tailStart > from) tailStart -= this.chunks[--at]!.length;
    const tail = Buffer.concat(this.chunks.slice(at));
    const found = tail.indexOf(marker, from - tailStart);
    const end = found < 0 ? -1 : tail.indexOf('\n', found);
    if (end < 0) {
      this.searched = this.length;
      return false;
    }
    const all = this.joined();
    const markerAt = tailStart + found;
    this.output = all.subarray(0, markerAt);
    this.status = Number(all.subarray(markerAt + marker.length, tailStart + end).toString());
    this.buffered = all.subarray(tailStart + end + 1);
    return true;
  }

  reset(): void {
    this.output = null;
    this.status = null;
  }

  private joined(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.length)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }
}

interface Pending {
  marker: Buffer;
  resolve: (outcome: WorkerOutcome) => void;
  reject: (error: Error) => void;
}

/** One remote shell; `run` is used by one command at a time (the caller keeps it busy). */
export class ShellWorker {
  busy = false;
  private retired = false;
  private closed = false;
  private readonly out = new Stream();
  private readonly err = new Stream();
  private pending: Pending | null = null;
  private readonly closeListeners: Array<() => void> = [];

  private constructor(readonly channel: ClientChannel) {}

  /** Opens the session and waits for the driver's "ready" (rejects when the session or sudo refuses). */
  static start(client: Client, sudo: boolean, timeoutMs: number): Promise<ShellWorker> {
    return new Promise((resolve, reject) => {
      client.exec(workerCommand(sudo), (error, channel) => {
        if (error) return reject(error);
        const worker = new ShellWorker(channel);
        const ready = Buffer.from('@@mc ready\n');
        let started = false;
        const timer = setTimeout(() => {
          if (started) return;
          worker.retire();
          reject(new Error(`the command shell did not start within ${timeoutMs} ms`));
        }, timeoutMs);
        channel.on('error', () => undefined);
        channel.stderr.on('data', (chunk: Buffer) => {
          if (started) return worker.receive(worker.err, chunk);
          worker.err.buffered = Buffer.concat([worker.err.buffered, chunk]); // sudo's refusal, say
        });
        channel.on('data', (chunk: Buffer) => {
          if (started) return worker.receive(worker.out, chunk);
          worker.out.buffered = Buffer.concat([worker.out.buffered, chunk]);
          if (worker.out.buffered.length < ready.length) return;
          clearTimeout(timer);
          if (!worker.out.buffered.subarray(0, ready.length).equals(ready)) {
            worker.retire();
            return reject(new Error('the command shell said something unexpected'));
          }
          started = true;
          worker.out.buffered = worker.out.buffered.subarray(ready.length);
          worker.err.buffered = Buffer.alloc(0); // a login banner or sudo's lecture, before the driver ran
          resolve(worker);
        });
        channel.on('close', () => {
          worker.retired = true;
          worker.closed = true;
          clearTimeout(timer);
          if (!started) reject(new Error(worker.err.buffered.toString('utf8').trim() || 'the command shell ended before it started'));
          worker.failPending(new Error('the command shell ended'));
          for (const listener of worker.closeListeners.splice(0)) listener();
        });
      });
    });
  }

  get usable(): boolean {
    return !this.retired && !this.busy;
  }

  /** False once retired or closed: never to be handed another command. */
  get alive(): boolean {
    return !this.retired;
  }

  /** Calls `listener` once when the session is gone. */
  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  /** Runs one command (with `input` on its stdin); rejects if the shell ends (or is retired) before it answers. */
  run(command: string, timeoutSeconds: string, input?: string): Promise<WorkerOutcome> {
    if (this.retired) return Promise.reject(new Error('the command shell was retired'));
    const nonce = randomBytes(12).toString('hex');
    const body = command.endsWith('\n') ? command : `${command}\n`;
    const lines = body.split('\n').length - 1;
    const header = Buffer.from(`${nonce} ${timeoutSeconds} ${lines}${input === undefined ? '' : ' 1'}\n${body}`);
    return new Promise((resolve, reject) => {
      this.pending = { marker: Buffer.from(`@@${nonce} `), resolve, reject };
      this.out.reset();
      this.err.reset();
      this.channel.write(input === undefined ? header : Buffer.concat([header, escapeInput(input)]));
    });
  }

  /** Never used again: stdin and the session closed (a running command ends by its own `timeout`). */
  retire(): void {
    if (!this.retired) {
      this.retired = true;
      this.failPending(new Error('the command shell was retired'));
    }
    try {
      this.channel.end();
      this.channel.close();
    } catch {
      // the connection is already gone
    }
  }

  private failPending(error: Error): void {
    const pending = this.pending;
    this.pending = null;
    pending?.reject(error);
  }

  private receive(stream: Stream, chunk: Buffer): void {
    const pending = this.pending;
    // Output while no command runs: something a command left behind (a daemon that kept
    // its stdout) writes here. Its later output could land in another command's: retired.
    if (!pending) return this.retire();
    if (!stream.take(chunk, pending.marker)) return;
    if (!this.out.settle(pending.marker) || !this.err.settle(pending.marker)) return;
    this.pending = null;
    const exitCode = this.out.status!;
    if (this.out.buffered.length > 0 || this.err.buffered.length > 0) this.retire();
    if (!Number.isInteger(exitCode) || exitCode !== this.err.status) {
      this.retire();
      return pending.reject(new Error('the command shell answered out of order'));
    }
    pending.resolve({ exitCode, stdout: this.out.output!.toString('utf8'), stderr: this.err.output!.toString('utf8') });
  }
}
