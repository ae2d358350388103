import type { ProbeRecord } from './request.js';

/** A maximal run of consecutive failures of one kind (spec 10), in epoch ms. */
export interface Outage {
  kind: 'read' | 'write';
  /** The last success before it (when its answer arrived), or the probe's start. */
  from: number;
  /** The first success after it (when its answer arrived), or the probe's end. */
  to: number;
  /** True when it lasted to the probe's end. */
  open: boolean;
  failures: number;
}

/** Every outage of one kind, in order. A success counts from the moment its answer arrived. */
export function outagesOf(records: readonly ProbeRecord[], kind: 'read' | 'write', start: number, end: number): Outage[] {
  const outages: Outage[] = [];
  let lastSuccess = start;
  let current: Outage | null = null;
  for (const record of records.filter((r) => r.kind === kind).sort((a, b) => a.t - b.t)) {
    const answered = record.t + record.ms;
    if (!record.ok) {
      current ??= { kind, from: lastSuccess, to: end, open: true, failures: 0 };
      current.failures += 1;
      continue;
    }
    if (current) outages.push({ ...current, to: answered, open: false });
    current = null;
    lastSuccess = answered;
  }
  if (current) outages.push({ ...current, to: Math.max(end, current.from), open: true });
  return outages;
}

/** The longest outage of either kind, or null when nothing failed. */
export function longestOutage(records: readonly ProbeRecord[], start: number, end: number): Outage | null {
  let longest: Outage | null = null;
  for (const kind of ['read', 'write'] as const) {
    for (const outage of outagesOf(records, kind, start, end)) {
      if (!longest || outage.to - outage.from > longest.to - longest.from) longest = outage;
    }
  }
  return longest;
}
