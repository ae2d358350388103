import type { Report } from './model.js';

// The timeline as a Vega-Lite specification (data in, spec out): one lane per step with a
// bar from its start to its end, coloured by outcome; under them a lane per kind of probe
// request with a mark per request (a filled circle for a success, a cross for a failure, so
// the two differ without colour); the longest outage shaded across every lane and labelled.

const OUTCOME_COLOURS: Record<string, string> = {
  changed: '#2e7d32',
  unchanged: '#78909c',
  skipped: '#cfd8dc',
  failed: '#c62828',
  blocked: '#ef6c00',
  'not run': '#eceff1',
};
const READS = 'probe: reads';
const WRITES = 'probe: writes';
const LANE_PX = 22;

/** Seconds between two ISO times. */
function seconds(from: string, to: string): number {
  return (Date.parse(to) - Date.parse(from)) / 1000;
}

/** A Vega-Lite spec of the report's timeline. */
export function timelineSpec(report: Report): Record<string, unknown> {
  const origin = report.probe.started;
  const kinds = report.summary.write_url ? [READS, WRITES] : [READS];
  const lanes = [...report.steps.map((s) => s.id), ...kinds];
  const steps = report.steps.map((s) => ({
    lane: s.id,
    start: seconds(origin, s.start),
    end: Math.max(seconds(origin, s.end), seconds(origin, s.start) + 0.004),
    outcome: s.outcome ?? 'not run',
    host: s.host ?? '-',
    action: s.action,
  }));
  const requests = report.probe.requests.map((r) => ({
    lane: r.kind === 'read' ? READS : WRITES,
    t: seconds(origin, r.t),
    result: r.ok ? 'answered 2xx' : 'failed',
  }));
  const s = report.summary;
  const outage = s.outage_from && s.outage_to && s.longest_outage_ms !== null
    ? [{ from: seconds(origin, s.outage_from), to: seconds(origin, s.outage_to), label: `longest outage ${s.longest_outage_ms} ms (${s.outage_kind}${s.outage_open ? ', still open at the end' : ''})` }]
    : [];
  const x = { type: 'quantitative', title: `seconds since the probe started (${origin})`, scale: { domain: [0, seconds(origin, report.probe.ended)], nice: false } };
  const y = { field: 'lane', type: 'nominal', title: null, scale: { domain: lanes }, axis: { labelLimit: 220 } };
  const layers: unknown[] = [
    {
      data: { values: steps },
      mark: { type: 'bar', height: LANE_PX - 6, stroke: '#455a64', strokeWidth: 0.5 },
      encoding: {
        x: { ...x, field: 'start' },
        x2: { field: 'end' },
        y,
        color: { field: 'outcome', type: 'nominal', title: 'step outcome', scale: { domain: Object.keys(OUTCOME_COLOURS), range: Object.values(OUTCOME_COLOURS) } },
      },
    },
    {
      data: { values: requests },
      mark: { type: 'point', size: 30, strokeWidth: 1.2, filled: false },
      encoding: {
        x: { ...x, field: 't' },
        y,
        shape: { field: 'result', type: 'nominal', title: 'probe request', scale: { domain: ['answered 2xx', 'failed'], range: ['circle', 'cross'] } },
        stroke: { field: 'result', type: 'nominal', title: 'probe request', scale: { domain: ['answered 2xx', 'failed'], range: ['#1565c0', '#b71c1c'] } },
        fill: { field: 'result', type: 'nominal', title: 'probe request', scale: { domain: ['answered 2xx', 'failed'], range: ['#1565c0', 'transparent'] } },
      },
    },
  ];
  if (outage.length > 0) {
    layers.unshift({
      data: { values: outage },
      mark: { type: 'rect', color: '#ff8f00', opacity: 0.22 },
      encoding: { x: { ...x, field: 'from' }, x2: { field: 'to' } },
    });
    layers.push({
      data: { values: outage },
      mark: { type: 'text', align: 'left', baseline: 'bottom', dy: -4, fontWeight: 'bold', color: '#e65100' },
      encoding: { x: { ...x, field: 'from' }, y: { value: 0 }, text: { field: 'label' } },
    });
  }
  return {
    width: 900,
    height: lanes.length * LANE_PX,
    padding: { left: 5, right: 5, top: 24, bottom: 5 },
    background: 'white',
    config: { font: 'sans-serif', view: { stroke: '#b0bec5' }, axis: { labelFontSize: 11 } },
    layer: layers,
  };
}
