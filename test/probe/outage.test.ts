import { describe, expect, it } from 'vitest';
import { longestOutage, outagesOf } from '../../src/probe/outage.js';
import type { ProbeRecord } from '../../src/probe/request.js';
import { summarize } from '../../src/probe/summary.js';

const settings = { url: 'http://site/health', writeUrl: 'http://site/probe', intervalMs: 20, timeoutMs: 500 };
const noLoss = { wal_bytes: 0, basis: 'no promotion', old_lsn: null, new_lsn: null };

/** A request that started at `t` (ms) and took 5 ms. */
function req(kind: 'read' | 'write', t: number, ok: boolean): ProbeRecord {
  return { t, kind, ok, ms: 5, status: ok ? 200 : null };
}

describe('outages (spec 10)', () => {
  it('last success before to first success after, each counted when its answer arrived', () => {
    const records = [req('read', 0, true), req('read', 20, false), req('read', 40, false), req('read', 60, true), req('read', 80, true)];
    expect(outagesOf(records, 'read', 0, 100)).toEqual([{ kind: 'read', from: 5, to: 65, open: false, failures: 2 }]);
  });

  it('an outage under way at the start counts from the probe start; one at the end is open to the probe end', () => {
    const records = [req('write', 10, false), req('write', 30, true), req('write', 50, false), req('write', 70, false)];
    expect(outagesOf(records, 'write', 0, 200)).toEqual([
      { kind: 'write', from: 0, to: 35, open: false, failures: 1 },
      { kind: 'write', from: 35, to: 200, open: true, failures: 2 },
    ]);
  });

  it('the longest of either kind; none when nothing failed', () => {
    const records = [req('read', 0, true), req('read', 20, false), req('read', 40, true), req('write', 0, true), req('write', 20, false), req('write', 100, true)];
    expect(longestOutage(records, 0, 200)).toMatchObject({ kind: 'write', from: 5, to: 105 });
    expect(longestOutage([req('read', 0, true)], 0, 100)).toBeNull();
  });

  it('the summary: counts, the outage with its steps, and reachable false (no figure) when nothing ever answered', () => {
    const records = [req('read', 1000, true), req('read', 1020, false), req('read', 1040, true), req('write', 1000, true), req('write', 1020, true)];
    const busy = (from: number, to: number) => (from <= 1030 && to >= 1010 ? ['promote'] : []);
    const s = summarize(settings, records, 1000, 1100, busy, noLoss);
    expect(s).toMatchObject({
      from: 'control machine',
      requests: 3,
      failed_requests: 1,
      write_requests: 2,
      failed_writes: 0,
      reachable: true,
      longest_outage_ms: 40,
      outage_kind: 'read',
      outage_from: new Date(1005).toISOString(),
      outage_to: new Date(1045).toISOString(),
      outage_open: false,
      outage_steps: ['promote'],
      data_loss: noLoss,
    });
    const never = summarize(settings, [req('read', 1000, false), req('write', 1000, false)], 1000, 1100, busy, noLoss);
    expect(never).toMatchObject({ reachable: false, longest_outage_ms: null, outage_kind: null, outage_from: null, outage_steps: [], failed_requests: 1 });
    const clean = summarize(settings, [req('read', 1000, true)], 1000, 1100, busy, noLoss);
    expect(clean).toMatchObject({ reachable: true, longest_outage_ms: 0, outage_kind: null, outage_open: false });
  });
});
