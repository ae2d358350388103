import type { DataLoss } from '../site/data-loss.js';
import { longestOutage } from './outage.js';
import type { ProbeRecord } from './request.js';
import type { ProbeSettings } from './settings.js';

/** The fields of `probe.summary` (spec 10), as outside tools read them. */
export interface ProbeSummary {
  from: string;
  url: string;
  write_url: string | null;
  requests: number;
  failed_requests: number;
  write_requests: number;
  failed_writes: number;
  reachable: boolean;
  longest_outage_ms: number | null;
  outage_kind: 'read' | 'write' | null;
  outage_from: string | null;
  outage_to: string | null;
  outage_open: boolean;
  outage_steps: string[];
  data_loss: DataLoss;
}

export const FROM_CONTROL_MACHINE = 'control machine';

/** Counts, the longest outage and the steps that ran during it; `stepsBusy` names the steps whose apply or verify overlapped a span. */
export function summarize(
  settings: ProbeSettings,
  records: readonly ProbeRecord[],
  start: number,
  end: number,
  stepsBusy: (from: number, to: number) => string[],
  dataLoss: DataLoss,
  from = FROM_CONTROL_MACHINE,
): ProbeSummary {
  const reads = records.filter((r) => r.kind === 'read');
  const writes = records.filter((r) => r.kind === 'write');
  const reachable = records.some((r) => r.ok);
  const outage = reachable ? longestOutage(records, start, end) : null;
  return {
    from,
    url: settings.url,
    write_url: settings.writeUrl,
    requests: reads.length,
    failed_requests: reads.filter((r) => !r.ok).length,
    write_requests: writes.length,
    failed_writes: writes.filter((r) => !r.ok).length,
    reachable,
    longest_outage_ms: reachable ? (outage ? Math.round(outage.to - outage.from) : 0) : null,
    outage_kind: outage?.kind ?? null,
    outage_from: outage ? iso(outage.from) : null,
    outage_to: outage ? iso(outage.to) : null,
    outage_open: outage?.open ?? false,
    outage_steps: outage ? stepsBusy(outage.from, outage.to) : [],
    data_loss: dataLoss,
  };
}

/** Epoch ms → ISO 8601 (millisecond precision). */
export function iso(epochMs: number): string {
  return new Date(Math.round(epochMs)).toISOString();
}
