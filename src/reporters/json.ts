import { write } from './write.js';
import type { EventBus } from '../engine/events.js';

/** --json: newline-delimited events on stdout, nothing else (notices go to stderr). */
export function attachJsonReporter(bus: EventBus): void {
  bus.on((event) => write(1, JSON.stringify(event) + '\n'));
  bus.onNotice((notice) => write(2, `${notice.level === 'warn' ? 'warning' : 'info'}: ${notice.message}\n`));
}
