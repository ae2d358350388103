import type { RunOutcome, StepOutcome } from '../engine/events.js';
import type { ProbeSummary } from '../probe/summary.js';

/** report.json (spec 10); times are ISO 8601. `probe` also says when it ran and how often it asked. */
export interface Report {
  run: { playbook: string; site: string; run_id: string | null; outcome: RunOutcome | null; started: string; ended: string };
  steps: Array<{ id: string; action: string; host: string | null; start: string; end: string; outcome: StepOutcome | null }>;
  probe: {
    started: string;
    ended: string;
    interval_ms: number;
    timeout_ms: number;
    requests: Array<{ t: string; kind: 'read' | 'write'; ok: boolean; ms: number }>;
  };
  summary: ProbeSummary;
}
