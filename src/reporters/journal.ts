import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { EventBus } from '../engine/events.js';

export function journalDir(stateDir: string): string {
  return join(stateDir, 'runs');
}

/** Appends every event of the run to <state-dir>/runs/<run_id>.ndjson, synchronously, so Ctrl-C loses nothing. */
export function attachJournal(bus: EventBus, stateDir: string): void {
  let file: string | null = null;
  bus.on((event) => {
    if (!event.run_id) return;
    if (!file) {
      mkdirSync(journalDir(stateDir), { recursive: true });
      file = join(journalDir(stateDir), `${event.run_id}.ndjson`);
    }
    appendFileSync(file, JSON.stringify(event) + '\n');
  });
}
