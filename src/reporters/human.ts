import { write } from './write.js';
import type { ChalkInstance } from 'chalk';
import type { EventBus, RunEvent } from '../engine/events.js';
import { formatMs } from '../engine/duration.js';
import { Spinner } from './spinner.js';
import { verdictLine } from '../probe/verdict-line.js';

export interface HumanOptions {
  /** File descriptor: 1 normally, 2 when --json owns stdout. */
  fd: number;
  color: ChalkInstance;
  tty: boolean;
  verbose: boolean;
}

/** One line per step with its state, host and duration, and the check's finding under it. */
export function attachHumanReporter(bus: EventBus, options: HumanOptions): void {
  const c = options.color;
  const out = (line: string) => write(options.fd, line + '\n');
  const spinner = options.tty ? new Spinner(options.fd) : null;
  let planHeader = false;
  let runHeader = false;

  const paint: Record<string, (s: string) => string> = {
    ready: c.cyan,
    done: c.green,
    blocked: c.red,
    skipped: c.yellow,
    changed: c.green,
    unchanged: c.green,
    failed: c.red,
  };
  const row = (state: string, step: string, host: string | null, ms: number, extra = '') =>
    `  ${(paint[state] ?? ((s: string) => s))(state.padEnd(9))} ${step.padEnd(18)} ${(host ?? '-').padEnd(10)} ${c.dim(formatMs(ms).padStart(7))}${extra}`;
  const finding = (text: string) => {
    if (text) out(`  ${' '.repeat(9)} ${c.dim('└')} ${text}`);
  };
  const checks = new Map<string, Extract<RunEvent, { event: 'step.check' }>>();
  const applied = new Map<string, string>();
  let probeLine: string | null = null;

  bus.on((event) => {
    switch (event.event) {
      case 'run.start':
        out(c.bold(`${event.playbook} · site ${event.site}${event.dry_run ? ' · dry run' : ''}`) + c.dim(`  (run ${event.run_id})`));
        break;
      case 'step.check':
        if (event.phase === 'plan') {
          if (!planHeader) out(c.bold('Plan'));
          planHeader = true;
          out(row(event.status, event.step, event.host, event.ms, c.dim(`  ${event.action}`)));
          finding(event.summary);
        } else {
          if (!runHeader) out(c.bold('Run'));
          runHeader = true;
          checks.set(event.step, event);
          if (event.status === 'ready') spinner?.start(`${event.step} ${event.host ?? ''}`);
        }
        break;
      case 'step.apply':
      case 'step.verify':
        if (event.event === 'step.apply' || !applied.has(event.step)) applied.set(event.step, event.summary);
        if (options.verbose) {
          spinner?.stop();
          out(c.dim(`    ${event.event === 'step.apply' ? 'applied' : 'verified'} ${event.step}: ${event.summary} (${formatMs(event.ms)})`));
        }
        break;
      case 'step.end': {
        spinner?.stop();
        const check = checks.get(event.step);
        out(row(event.outcome, event.step, check?.host ?? null, event.ms));
        finding(event.error ?? applied.get(event.step) ?? check?.summary ?? '');
        break;
      }
      case 'run.end': {
        spinner?.stop();
        const ok = event.exit_code === 0;
        const changed = event.changed.length ? `, changed: ${event.changed.join(', ')}` : '';
        out((ok ? c.green : c.red)(`${event.outcome} in ${formatMs(event.ms)} (exit ${event.exit_code}${changed})`));
        // With --probe the output ends with what users saw, and the data-loss verdict.
        if (probeLine) out(c.bold(probeLine));
        break;
      }
      case 'probe.summary':
        probeLine = verdictLine(event);
        break;
      case 'error':
        break;
    }
  });
  bus.onNotice((notice) => {
    spinner?.stop();
    write(2, `${notice.level === 'warn' ? c.yellow('warning:') : c.dim('info:')} ${notice.message}\n`);
  });
}
