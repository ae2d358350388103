import { describe, expect, it } from 'vitest';
import { AFTER, BETWEEN, PLAN, START, describeOutageSteps, outageSteps } from './outage-steps.js';

const at = (ms: number) => new Date(Date.UTC(2026, 11, 2, 6, 0, 0) + ms).toISOString();
const t0 = Date.UTC(2026, 11, 2, 6, 0, 0);
const end = (step: string, endMs: number, ms: number) => ({ event: 'step.end', ts: at(endMs), step, ms });

describe('where an outage goes', () => {
  const events = [{ event: 'run.start', ts: at(40), playbook: 'switchover' }, end('sync', 400, 300), end('stop-old', 700, 250), end('promote', 1000, 280), end('move-ip', 1100, 90)];

  it('splits the window between the steps, the gaps between them and what lies outside them', () => {
    const result = outageSteps(events, t0 + 500, t0 + 1200);
    expect(result.window_ms).toBe(700);
    expect(Object.fromEntries(result.shares.map((s) => [s.step, s.ms]))).toEqual({ 'stop-old': 200, [BETWEEN]: 30, promote: 280, 'move-ip': 90, [AFTER]: 100 });
    expect(result.shares.reduce((n, s) => n + s.ms, 0)).toBe(700);
  });

  it('counts the time before run.start as start-up, and from there to the first step as the plan', () => {
    const result = outageSteps(events, t0, t0 + 150);
    expect(result.shares).toEqual([{ step: START, ms: 40 }, { step: PLAN, ms: 60 }, { step: 'sync', ms: 50 }]);
  });

  it('describes the largest share first, with percentages', () => {
    expect(describeOutageSteps(outageSteps(events, t0 + 500, t0 + 1200))).toBe(`promote 280 ms (40%), stop-old 200 ms (29%), ${AFTER} 100 ms (14%), move-ip 90 ms (13%), ${BETWEEN} 30 ms (4%)`);
  });
});
