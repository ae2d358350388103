import { write } from './write.js';
import type { EventBus } from '../engine/events.js';
import { verdictLine } from '../probe/verdict-line.js';

/** --json: newline-delimited events on stdout, nothing else (notices go to stderr). */
export function attachJsonReporter(bus: EventBus): void {
  bus.on((event) => {
    write(1, JSON.stringify(event) + '\n');
    // The verdict for a human reading a CI log; the event on stdout carries the same.
    if (event.event === 'probe.summary') write(2, `${verdictLine(event)}\n`);
  });
  bus.onNotice((notice) => write(2, `${notice.level === 'warn' ? 'warning' : 'info'}: ${notice.message}\n`));
}
