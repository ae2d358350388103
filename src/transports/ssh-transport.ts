// Commands and TCP forwards over one established ssh2 connection.
import type { Duplex } from 'node:stream';
import type { Client, ClientChannel } from 'ssh2';
import { HostTrustError, HostUnreachableError } from '../errors.js';
import type { HostEntry } from '../inventory/schema.js';
import { ChannelLimit } from './channel-limit.js';
import { hostLabel } from './host-key.js';
import { lastLine } from './last-line.js';
import { quote } from './quote.js';
import { ShellWorker, WORKER_INPUT_MAX_BYTES } from './shell-worker.js';
import { DEFAULT_COMMAND_TIMEOUT_MS, type CommandResult, type ExecOptions, type Transport } from './types.js';

/** Seconds GNU timeout waits after SIGTERM before SIGKILL. */
const KILL_AFTER_S = 2;
/** How long after the timeout a channel may stay open locally before it is closed. */
const LOCAL_GRACE_MS = (KILL_AFTER_S + 1) * 1000;
/** ssh2's keepalive interval (set in ssh.ts): a live sshd answers within it, even while commands run. */
export const KEEPALIVE_INTERVAL_MS = 3000;
/** Delay before asking again when sshd refuses a session while others are open. */
const SESSION_RETRY_MS = 250;
/** Long-lived command shells per connection (see shell-worker.ts); busy ones leave the rest to channels. */
const MAX_WORKERS = 4;
/** How long a command waits for a busy command shell before it starts another (or takes a channel). */
const QUEUE_MS = 250;
/** How long a new command shell may take to start before plain channels are used instead. */
const WORKER_START_MS = 10_000;

/**
 * The command line sent to the host. `timeout` (GNU, not --foreground) makes its own
 * process group and kills all of it, so a timed-out command does not keep running
 * after the channel is gone; `sudo -n` never prompts.
 */
export function remoteCommand(command: string, timeoutMs: number, sudo: boolean): string {
  const seconds = (Math.max(timeoutMs, 1) / 1000).toFixed(3);
  const bounded = `env LC_ALL=C timeout -k ${KILL_AFTER_S} ${seconds} /bin/sh -c ${quote(command)}`;
  return sudo ? `sudo -n ${bounded}` : bounded;
}

/**
 * Asks sshd to signal the session's process group (OpenSSH >= 7.9: killpg of the
 * session leader, which is our `timeout`). OpenSSH refuses this for root logins
 * ("session signalling requires privilege separation"), so it is best effort: the
 * remote `timeout` still bounds the command. ssh2's `channel.signal()` silently does
 * nothing once stdin is closed, and we always close stdin, so this goes through the
 * protocol object directly.
 */
function signalSession(channel: ClientChannel, name: string): void {
  const internals = channel as unknown as {
    outgoing?: { id: number; state: string };
    _client?: { _protocol?: { signal?: (id: number, signal: string) => void } };
  };
  try {
    const state = internals.outgoing?.state;
    if (internals.outgoing && (state === 'open' || state === 'eof')) internals._client?._protocol?.signal?.(internals.outgoing.id, name);
  } catch {
    // the connection is already gone
  }
}

/** True when `sudo -n` refused to run the command (it would have asked for a password, or the user may not sudo). */
export function sudoRefused(result: CommandResult): boolean {
  return result.exitCode === 1 && /^sudo: (a password is required|a terminal is required|.* is not in the sudoers file|.* not allowed to execute|sorry, you must have a tty)/m.test(result.stderr);
}

/**
 * A Transport over one ssh2 connection: at most 8 commands at a time, each on an idle
 * long-lived command shell when there is one (up to MAX_WORKERS), else on a channel of its own.
 */
export class SshTransport implements Transport {
  readonly host: string;
  private readonly limit = new ChannelLimit();
  private readonly pendingOnLoss = new Set<(error: HostUnreachableError) => void>();
  private lost: HostUnreachableError | null = null;
  private closedByUs = false;
  private readonly lostListeners: Array<() => void> = [];
  private readonly workers: ShellWorker[] = [];
  private startingWorkers = 0;
  /** Commands waiting (at most QUEUE_MS) for a busy command shell. */
  private readonly waiters: Array<(worker: ShellWorker | null) => void> = [];
  /** Set once a command shell could not be started (sessions or sudo refused): channels only from then on. */
  private workersOff = false;
  /** Bytes received, counted here when the connection runs over a jump host's channel (it keeps no count). */
  private channelBytes: number | null = null;

  constructor(
    private readonly entry: HostEntry,
    private readonly client: Client,
  ) {
    this.host = entry.name;
    const sock = (client as unknown as { _sock?: NodeJS.ReadableStream & { bytesRead?: number } })._sock;
    if (sock && typeof sock.bytesRead !== 'number') {
      this.channelBytes = 0;
      sock.on('data', (chunk: Buffer) => {
        this.channelBytes! += chunk.length;
      });
    }
    // A failed connection (keepalive timeout, reset) is torn down at once: ssh2 only ends
    // it, and a half-closed socket to a dead host would keep the process alive.
    client.on('error', (error: Error) => {
      // ssh2 says only "Keepalive timeout": say what it means.
      const why = /keepalive timeout/i.test(error.message)
        ? `answered none of 3 SSH keepalives in ${(3 * KEEPALIVE_INTERVAL_MS) / 1000} s: the host is down or cut off`
        : `the SSH connection failed: ${error.message}`;
      this.lost ??= this.lostError(why, error);
      client.destroy();
    });
    client.on('close', () => {
      this.lost ??= this.closedByUs
        ? new HostUnreachableError(this.host, `${hostLabel(entry)}: the SSH connection was closed by mirrorctl`)
        : this.lostError('the SSH connection was lost');
      for (const fail of [...this.pendingOnLoss]) fail(this.lost);
      this.pendingOnLoss.clear();
      if (!this.closedByUs) for (const listener of this.lostListeners.splice(0)) listener();
    });
    // The first command shell starts with the connection: a run's first commands then find it ready.
    void this.startWorker().then((worker) => worker && this.releaseWorker(worker));
  }

  get alive(): boolean {
    return this.lost === null;
  }

  onLost(listener: () => void): void {
    this.lostListeners.push(listener);
  }

  /** Bytes received on the connection so far (keepalive answers included). */
  private bytesRead(): number {
    return this.channelBytes ?? (this.client as unknown as { _sock?: { bytesRead?: number } })._sock?.bytesRead ?? 0;
  }

  /** Declares the host dead: the connection is destroyed and every pending command rejects with HostUnreachableError. */
  private declareLost(what: string): void {
    this.lost ??= this.lostError(what);
    this.client.destroy();
  }

  async exec(command: string, options: ExecOptions = {}): Promise<CommandResult> {
    const started = performance.now();
    // Node timers overflow past 2^31-1 ms (and fire at once); nobody waits 24 days anyway.
    const timeoutMs = Math.min(Math.max(options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS, 1), 2 ** 31 - 1 - LOCAL_GRACE_MS);
    if (this.lost) throw this.lost;
    let release: () => void;
    try {
      release = await this.limit.acquire(options.signal);
    } catch {
      return this.result(command, started, { exitCode: null, signal: 'SIGKILL', stdout: '', stderr: '', timedOut: false });
    }
    const slot = { holdMs: 0 };
    try {
      const worker = options.input === undefined || Buffer.byteLength(options.input) <= WORKER_INPUT_MAX_BYTES ? await this.takeWorker(options.signal) : null;
      const result = worker ? await this.runOnWorker(worker, command, timeoutMs, options, started, slot) : await this.runChannel(command, timeoutMs, options, started, slot);
      if (this.entry.ssh.sudo && sudoRefused(result)) {
        throw new HostTrustError(this.host, `${hostLabel(this.entry)}: sudo -n refused to run a command as root for ${this.entry.ssh.user} (${lastLine(result.stderr)})`, {
          hint: `give ${this.entry.ssh.user} NOPASSWD sudo on ${this.host} (mirrorctl never types a password), or log in as root with ssh.sudo: false`,
        });
      }
      return result;
    } finally {
      if (slot.holdMs > 0 && !this.lost) setTimeout(release, slot.holdMs).unref();
      else release();
    }
  }

  private runChannel(command: string, timeoutMs: number, options: ExecOptions, started: number, slot: { holdMs: number }): Promise<CommandResult> {
    return new Promise((resolve, reject) => {
      if (this.lost) return reject(this.lost);
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let exitCode: number | null = null;
      let signal: string | null = null;
      let aborted = false;
      let channel: ClientChannel | null = null;

      const finish = () => {
        if (!watch.settle()) return;
        if (aborted) {
          exitCode = null;
          signal = 'SIGKILL';
        } else if (watch.timedOut) {
          // What the caller asked for timed out; GNU timeout's own 124 says nothing more.
          exitCode = null;
          signal ??= 'SIGTERM';
        }
        const text = (chunks: Buffer[]) => Buffer.concat(chunks).toString('utf8');
        resolve(this.result(command, started, { exitCode, signal, stdout: text(stdout), stderr: text(stderr), timedOut: watch.timedOut }));
      };
      const stopChannel = (name: string) => {
        if (!channel) return;
        signalSession(channel, name);
        try {
          channel.close();
        } catch {
          // the connection is already gone
        }
      };
      let requestedAt: number | null = null;
      const onAbort = () => {
        aborted = true;
        // Under sudo the command runs as root: the login user's KILL would end only sudo and
        // orphan the command, while a TERM is relayed by sudo to `timeout`, which ends its
        // whole process group (and KILLs it KILL_AFTER_S later).
        stopChannel(this.entry.ssh.sudo ? 'TERM' : 'KILL');
        // sshd keeps the session (and counts it against MaxSessions) until the command
        // exits; if it ignores the signal (it does for root logins), that is when the
        // remote `timeout` ends it. The slot stays taken until then.
        if (requestedAt !== null) slot.holdMs = Math.max(0, requestedAt + timeoutMs + LOCAL_GRACE_MS - performance.now());
        finish();
      };
      const watch = this.watchCommand(timeoutMs, options, {
        lost: reject,
        abort: onAbort,
        // the remote `timeout` fires at the same moment anyway
        timeout: () => channel && signalSession(channel, 'TERM'),
        graceOver: () => {
          stopChannel('KILL');
          finish();
        },
      });
      if (options.signal?.aborted) return onAbort();

      const refused = (error: Error) => {
        if (!watch.settle()) return;
        reject(
          new HostTrustError(this.host, `${hostLabel(this.entry)}: sshd refused to open a session (${error.message})`, {
            hint: `check MaxSessions and any ForceCommand/Match rules in ${this.entry.name}'s sshd_config`,
            cause: error,
          }),
        );
      };
      const open = () => {
        requestedAt ??= performance.now();
        this.client.exec(remoteCommand(command, timeoutMs, this.entry.ssh.sudo), (error, opened) => {
          if (error) {
            if (watch.settled) return;
            if (this.lost) return watch.lost(this.lost);
            // A host with a MaxSessions below ours: idle command shells give their sessions
            // back (and none start again), and we wait for a sibling channel to finish.
            if (this.disableWorkers() || this.limit.inFlight > 1) return void setTimeout(open, SESSION_RETRY_MS);
            return refused(error);
          }
          attach(opened);
        });
      };
      const attach = (opened: ClientChannel) => {
        if (watch.settled) {
          opened.close();
          return;
        }
        channel = opened;
        opened.on('data', (chunk: Buffer) => stdout.push(chunk));
        opened.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        opened.on('exit', (code: number | null, name?: string) => {
          if (typeof code === 'number') exitCode = code;
          else if (name) signal = name.startsWith('SIG') ? name : `SIG${name}`;
        });
        opened.on('error', () => undefined); // surfaced as a missing exit status, or by the connection
        opened.on('close', () => {
          // On a dropped connection the client's 'close' has already rejected us.
          if (this.lost && !this.closedByUs && exitCode === null && signal === null && !watch.timedOut && !aborted) return watch.lost(this.lost);
          finish();
        });
        if (options.input) opened.end(options.input);
        else opened.end();
      };
      open();
    });
  }

  /**
   * A command shell for one command, marked busy: an idle one; else the first to come free
   * within QUEUE_MS (starting shells and sudo costs more than waiting for a short command);
   * else a new one while fewer than MAX_WORKERS exist. Null: use a channel of its own.
   */
  private async takeWorker(signal?: AbortSignal): Promise<ShellWorker | null> {
    if (this.workersOff || this.lost) return null;
    const idle = this.workers.find((w) => w.usable);
    if (idle) {
      idle.busy = true;
      return idle;
    }
    if (this.workers.length + this.startingWorkers === 0) return this.startWorker();
    const handed = await new Promise<ShellWorker | null | 'late'>((resolve) => {
      const done = (outcome: ShellWorker | null | 'late') => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        resolve(outcome);
      };
      const waiter = (worker: ShellWorker | null) => done(worker);
      const onAbort = () => done(null);
      const timer = setTimeout(() => done('late'), QUEUE_MS);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
    if (handed !== 'late') return handed;
    return !this.workersOff && this.workers.length + this.startingWorkers < MAX_WORKERS ? this.startWorker() : null;
  }

  private async startWorker(): Promise<ShellWorker | null> {
    this.startingWorkers += 1;
    try {
      const worker = await ShellWorker.start(this.client, this.entry.ssh.sudo, WORKER_START_MS);
      worker.busy = true;
      this.workers.push(worker);
      worker.onClose(() => this.dropWorker(worker));
      return worker;
    } catch {
      // sshd or sudo refused it (the command's own channel then says why), or the host is slow
      this.disableWorkers();
      return null;
    } finally {
      this.startingWorkers -= 1;
    }
  }

  /** A command is done with the shell: the next waiting command gets it, else it is idle. */
  private releaseWorker(worker: ShellWorker): void {
    if (!worker.alive) return; // retired meanwhile: waiting commands start their own when their wait ends
    if (this.workersOff) {
      this.dropWorker(worker);
      worker.retire();
      return;
    }
    const next = this.waiters.shift();
    if (next) next(worker);
    else worker.busy = false;
  }

  private dropWorker(worker: ShellWorker): void {
    const at = this.workers.indexOf(worker);
    if (at >= 0) this.workers.splice(at, 1);
  }

  /**
   * Channels only from now on (a shell or a session was refused): idle shells are closed, busy
   * ones when their command ends, and waiting commands take channels. True if any was idle.
   */
  private disableWorkers(): boolean {
    this.workersOff = true;
    for (const waiter of this.waiters.splice(0)) waiter(null);
    return this.stopWorkers();
  }

  /** Closes the idle command shells (sshd wants their sessions); true if there were any. */
  private stopWorkers(): boolean {
    const idle = this.workers.filter((w) => w.usable);
    for (const worker of idle) {
      this.dropWorker(worker);
      worker.retire();
    }
    return idle.length > 0;
  }

  /** One command on a command shell: the same bounds, abort and loss handling as on a channel. */
  private runOnWorker(worker: ShellWorker, command: string, timeoutMs: number, options: ExecOptions, started: number, slot: { holdMs: number }): Promise<CommandResult> {
    return new Promise((resolve, reject) => {
      const sentAt = performance.now();
      const retire = () => {
        this.dropWorker(worker);
        worker.retire();
      };
      const finish = (outcome: Omit<CommandResult, 'command' | 'host' | 'durationMs'>) => {
        if (watch.settle()) resolve(this.result(command, started, outcome));
      };
      const onAbort = () => {
        // As for a channel: TERM under sudo reaches `timeout`, which ends the command's group.
        signalSession(worker.channel, this.entry.ssh.sudo ? 'TERM' : 'KILL');
        retire();
        slot.holdMs = Math.max(0, sentAt + timeoutMs + LOCAL_GRACE_MS - performance.now());
        finish({ exitCode: null, signal: 'SIGKILL', stdout: '', stderr: '', timedOut: false });
      };
      const watch = this.watchCommand(timeoutMs, options, {
        lost: (error) => {
          retire();
          reject(error);
        },
        abort: onAbort,
        // The remote `timeout` fires now too, and the shell answers; if it does not, retire it.
        timeout: () => undefined,
        graceOver: () => {
          retire();
          finish({ exitCode: null, signal: 'SIGTERM', stdout: '', stderr: '', timedOut: true });
        },
      });
      if (options.signal?.aborted) return onAbort();

      const seconds = (Math.max(timeoutMs, 1) / 1000).toFixed(3);
      worker.run(command, seconds, options.input).then(
        (outcome) => {
          if (watch.settled) return;
          this.releaseWorker(worker);
          if (watch.timedOut) finish({ exitCode: null, signal: 'SIGTERM', stdout: outcome.stdout, stderr: outcome.stderr, timedOut: true });
          else finish({ exitCode: outcome.exitCode, signal: null, stdout: outcome.stdout, stderr: outcome.stderr, timedOut: false });
        },
        (error: Error) => {
          // On a dropped connection the client's 'close' rejects us with the lost host; give it that turn.
          setImmediate(() => {
            if (watch.settled) return;
            if (this.lost && !this.closedByUs) return watch.lost(this.lost);
            retire();
            finish({ exitCode: null, signal: null, stdout: '', stderr: `the command shell on ${this.host} ended before the command did (${error.message})`, timedOut: watch.timedOut });
          });
        },
      );
    });
  }

  /**
   * What every command shares, on a channel or a command shell: it settles once; its
   * timeout, after which `graceOver` runs LOCAL_GRACE_MS later unless it settled; the
   * silent-host rule; the caller's abort signal; and the loss of the connection, which
   * settles it and calls `lost`. `settle()` is false when it had already settled.
   */
  private watchCommand(
    timeoutMs: number,
    options: ExecOptions,
    on: { lost: (error: HostUnreachableError) => void; abort: () => void; timeout: () => void; graceOver: () => void },
  ): { readonly settled: boolean; readonly timedOut: boolean; settle(): boolean; lost(error: HostUnreachableError): void } {
    let hardStop: NodeJS.Timeout | undefined;
    const watch = {
      settled: false,
      timedOut: false,
      settle: (): boolean => {
        if (watch.settled) return false;
        watch.settled = true;
        clearTimeout(timer);
        clearTimeout(hardStop);
        options.signal?.removeEventListener('abort', on.abort);
        this.pendingOnLoss.delete(watch.lost);
        return true;
      },
      lost: (error: HostUnreachableError): void => {
        if (watch.settle()) on.lost(error);
      },
    };
    const readAtStart = this.bytesRead();
    const timer = setTimeout(() => {
      watch.timedOut = true;
      // Not one byte from the host for the whole command, keepalive answers included: the
      // host is gone (crashed, cut off), not slow. Say so, instead of a timed-out command.
      // (Only for commands long enough to have seen two keepalives.)
      if (timeoutMs >= 2 * KEEPALIVE_INTERVAL_MS && this.bytesRead() === readAtStart) {
        this.declareLost(`sent nothing for ${timeoutMs} ms, not even keepalive answers: the host is down or cut off`);
        return watch.lost(this.lost!);
      }
      on.timeout();
      hardStop = setTimeout(on.graceOver, LOCAL_GRACE_MS);
    }, timeoutMs);
    this.pendingOnLoss.add(watch.lost);
    if (!options.signal?.aborted) options.signal?.addEventListener('abort', on.abort, { once: true });
    return watch;
  }

  forward(port: number, address = '127.0.0.1'): Promise<Duplex> {
    if (this.lost) return Promise.reject(this.lost);
    return new Promise((resolve, reject) => {
      this.client.forwardOut('127.0.0.1', 0, address, port, (error, channel) => {
        if (!error) return resolve(channel);
        reject(
          this.lost ??
            new Error(`${hostLabel(this.entry)}: cannot reach ${address}:${port} from the host: ${error.message}`, { cause: error }),
        );
      });
    });
  }

  async close(): Promise<void> {
    this.closedByUs = true;
    if (this.lost) {
      this.client.destroy();
      return;
    }
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.client.destroy();
        resolve();
      }, 2000);
      this.client.once('close', () => {
        clearTimeout(force);
        resolve();
      });
      this.client.end();
    });
  }

  private result(command: string, started: number, outcome: Omit<CommandResult, 'command' | 'host' | 'durationMs'>): CommandResult {
    return { command, host: this.host, durationMs: Math.round(performance.now() - started), ...outcome };
  }

  private lostError(what: string, cause?: unknown): HostUnreachableError {
    return new HostUnreachableError(this.host, `${hostLabel(this.entry)}: ${what}`, {
      hint: 'check the host is up and reachable, then run again (steps already done answer `done`)',
      cause,
    });
  }
}
