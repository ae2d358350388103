import type { RunOutcome } from '../engine/events.js';
import type { ProbeSession } from '../probe/session.js';
import { iso } from '../probe/summary.js';
import type { Report } from './model.js';

/** What the report needs of the run besides the probe: from run.start and run.end. */
export interface RunFacts {
  playbook: string;
  site: string;
  runId: string | null;
  outcome: RunOutcome | null;
  started: string;
  ended: string;
}

/** The report's data, from the run's facts and the finished probe (pure). */
export function buildReport(run: RunFacts, probe: ProbeSession): Report {
  if (!probe.summary) throw new Error('the probe has not been summarized');
  return {
    run: { playbook: run.playbook, site: run.site, run_id: run.runId, outcome: run.outcome, started: run.started, ended: run.ended },
    steps: probe.timeline.steps().map((s) => ({ id: s.id, action: s.action, host: s.host, start: iso(s.start), end: iso(s.end), outcome: s.outcome })),
    probe: {
      started: iso(probe.started),
      ended: iso(probe.ended),
      interval_ms: probe.settings.intervalMs,
      timeout_ms: probe.settings.timeoutMs,
      requests: probe.records().map((r) => ({ t: iso(r.t), kind: r.kind, ok: r.ok, ms: Math.round(r.ms * 10) / 10 })),
    },
    summary: probe.summary,
  };
}
