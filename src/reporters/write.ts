import { writeSync } from 'node:fs';

/**
 * Writes all of `text` to a file descriptor synchronously, so events are in order
 * and nothing is lost at exit. A reader that went away (`| head`) is not an error;
 * a full non-blocking pipe (EAGAIN) is retried until it drains.
 */
export function write(fd: number, text: string): void {
  let buffer = Buffer.from(text);
  while (buffer.length > 0) {
    try {
      buffer = buffer.subarray(writeSync(fd, buffer));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') return;
      if (code !== 'EAGAIN') throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}
