import { writeSync } from 'node:fs';
import type { EventBus } from '../engine/events.js';

/** --json: newline-delimited events on stdout, nothing else (notices go to stderr). */
export function attachJsonReporter(bus: EventBus): void {
  bus.on((event) => writeSync(1, JSON.stringify(event) + '\n'));
  bus.onNotice((notice) => writeSync(2, `${notice.level === 'warn' ? 'warning' : 'info'}: ${notice.message}\n`));
}
