import type { EventBus } from '../engine/events.js';
import type { RunOptions } from './options.js';
import { wantsColor } from './options.js';

/** Human or JSON on the terminal, plus the journal, plus JUnit when asked. */
export async function attachReporters(bus: EventBus, options: RunOptions, stateDir: string): Promise<void> {
  const { attachJournal } = await import('../reporters/journal.js');
  attachJournal(bus, stateDir);
  if (options.junit) {
    const { attachJunitReporter } = await import('../reporters/junit.js');
    attachJunitReporter(bus, options.junit);
  }
  if (options.json) {
    const { attachJsonReporter } = await import('../reporters/json.js');
    attachJsonReporter(bus);
    return;
  }
  const { attachHumanReporter } = await import('../reporters/human.js');
  const { Chalk } = await import('chalk');
  const fd = 1;
  const color = new Chalk({ level: wantsColor(options, fd) ? 1 : 0 });
  attachHumanReporter(bus, { fd, color, tty: Boolean(process.stdout.isTTY), verbose: Boolean(options.verbose) });
}
