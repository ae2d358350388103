import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EventBus } from '../engine/events.js';
import { ConfigError } from '../errors.js';
import type { ProbeSession } from '../probe/session.js';
import { write } from '../reporters/write.js';
import { buildReport, type RunFacts } from './build.js';
import { reportHtml } from './html.js';

/**
 * --report DIR: creates DIR now (a report that cannot be written is a usage error before the
 * run, not a surprise after it), follows the run, and returns what writes the three files
 * once the run has ended, whatever its outcome.
 */
export async function attachReport(bus: EventBus, probe: ProbeSession, dir: string): Promise<() => Promise<void>> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw new ConfigError(`--report ${dir}: the directory cannot be created (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { hint: 'give a directory this user can write' });
  }
  const run: RunFacts = { playbook: '', site: '', runId: null, outcome: null, started: '', ended: '' };
  let ended = false;
  bus.on((event) => {
    if (event.event === 'run.start') Object.assign(run, { playbook: event.playbook, site: event.site, runId: event.run_id, started: event.ts });
    if (event.event === 'run.end') {
      Object.assign(run, { outcome: event.outcome, ended: event.ts });
      ended = true;
    }
  });
  return async () => {
    if (!ended || !probe.summary) return;
    try {
      await writeReport(dir, run, probe);
      write(2, `report: ${join(dir, 'report.html')} (with report.json and report.svg)\n`);
    } catch (error) {
      write(2, `warning: the report in ${dir} could not be written: ${(error as Error).message}\n`);
    }
  };
}

/** report.json first (the data, whatever happens next), then the drawing and the page. */
async function writeReport(dir: string, run: RunFacts, probe: ProbeSession): Promise<void> {
  const report = buildReport(run, probe);
  await writeFile(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  let svg: string | null = null;
  try {
    const { renderTimelineSvg } = await import('./render-svg.js');
    svg = await renderTimelineSvg(report);
    await writeFile(join(dir, 'report.svg'), svg);
  } finally {
    await writeFile(join(dir, 'report.html'), reportHtml(report, svg));
  }
}
