import { setMaxListeners } from 'node:events';

/** After a second Ctrl-C, how long the run may take to stop and record by itself. */
export const HARD_STOP_GRACE_MS = 2000;
/** Then how long what must still happen (releasing the site locks) may take before the process exits. */
export const HARD_STOP_CLEANUP_MS = 3000;

type Cleanup = () => void | Promise<void>;

/**
 * Ctrl-C once: the current step finishes, the run stops before the next one.
 * Twice: `abort` fires (commands are killed) and the run stops at once; if it has not
 * ended after a short grace, the registered cleanups run (bounded) and the process exits 130.
 */
export class Interrupt {
  readonly controller = new AbortController();
  requested = false;
  private readonly onSigint = () => this.hit();
  private readonly listeners: Array<(count: number) => void> = [];
  private readonly cleanups: Cleanup[] = [];
  private count = 0;
  private stopping: Promise<void> | null = null;

  constructor(
    private readonly timing = { graceMs: HARD_STOP_GRACE_MS, cleanupMs: HARD_STOP_CLEANUP_MS },
    private readonly exit: (code: number) => void = (code) => process.exit(code),
  ) {
    // Every command in flight listens on this one signal (many at once in a parallel plan):
    // not a leak, so no MaxListenersExceededWarning on the operator's terminal.
    setMaxListeners(0, this.controller.signal);
  }

  install(): this {
    process.on('SIGINT', this.onSigint);
    process.on('SIGTERM', this.onSigint);
    return this;
  }

  uninstall(): void {
    process.off('SIGINT', this.onSigint);
    process.off('SIGTERM', this.onSigint);
  }

  onHit(listener: (count: number) => void): void {
    this.listeners.push(listener);
  }

  /** Registers what a hard stop must still do before exiting (release locks, record the end); returns its removal. */
  beforeHardStop(cleanup: Cleanup): () => void {
    this.cleanups.push(cleanup);
    return () => {
      const at = this.cleanups.indexOf(cleanup);
      if (at >= 0) this.cleanups.splice(at, 1);
    };
  }

  hit(): void {
    this.count += 1;
    this.requested = true;
    if (this.count === 2) {
      this.controller.abort();
      setTimeout(() => void this.hardStop(), this.timing.graceMs).unref();
    }
    for (const listener of this.listeners) listener(this.count);
  }

  /** Runs the registered cleanups, innermost first, together bounded by cleanupMs; then exits 130. */
  hardStop(): Promise<void> {
    this.stopping ??= (async () => {
      const running = [...this.cleanups].reverse().map((cleanup) => Promise.resolve().then(cleanup).catch(() => undefined));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(running), new Promise<void>((resolve) => (timer = setTimeout(resolve, this.timing.cleanupMs)))]);
      clearTimeout(timer);
      this.exit(130);
    })();
    return this.stopping;
  }
}
