import type { Summary } from './measure.js';

// One line of the report: what was measured, mirrorctl's figure, the comparison's,
// their pair-by-pair ratio, the target and whether it was met, plus every raw sample.

export type RowStatus = 'ok' | 'failed' | 'not measured';

export interface Row {
  id: string;
  measurement: string;
  unit: 'ms' | 'writes';
  mirrorctl: Summary | null;
  comparisonLabel: string | null;
  comparison: Summary | null;
  ratio: Summary | null;
  target: string;
  met: boolean | null;
  status: RowStatus;
  /** Why the row failed or was not measured, or a remark. */
  note?: string;
  /** One sentence on what the figure means (filled in by the report). */
  meaning: string;
  samples: Record<string, unknown>;
}

/** A row that could not be measured at all. */
export function unmeasuredRow(id: string, measurement: string, target: string, status: RowStatus, note: string): Row {
  return { id, measurement, unit: 'ms', mirrorctl: null, comparisonLabel: null, comparison: null, ratio: null, target, met: null, status, note, meaning: '', samples: {} };
}
