/**
 * Ctrl-C once: the current step finishes, the run stops before the next one.
 * Twice: `abort` fires (commands are killed) and the run stops at once.
 */
export class Interrupt {
  readonly controller = new AbortController();
  requested = false;
  private readonly onSigint = () => this.hit();
  private readonly listeners: Array<(count: number) => void> = [];
  private count = 0;

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

  hit(): void {
    this.count += 1;
    this.requested = true;
    if (this.count >= 2) this.controller.abort();
    for (const listener of this.listeners) listener(this.count);
  }
}
