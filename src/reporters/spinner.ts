import { write } from './write.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** A one-line spinner, only ever used on a terminal. */
export class Spinner {
  private timer: NodeJS.Timeout | null = null;
  private frame = 0;
  constructor(private readonly fd: number) {}

  start(text: string): void {
    this.stop();
    this.timer = setInterval(() => {
      this.frame = (this.frame + 1) % FRAMES.length;
      write(this.fd, `\r  ${FRAMES[this.frame]} ${text}\x1b[K`);
    }, 80);
    this.timer.unref();
  }

  stop(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = null;
    write(this.fd, '\r\x1b[K');
  }
}
