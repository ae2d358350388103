import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { EventBus, RunEvent } from '../engine/events.js';

interface Case {
  name: string;
  action: string;
  ms: number;
  state: 'passed' | 'failed' | 'skipped';
  message: string;
}

/** --junit FILE: one testcase per step, written when the run ends. */
export function attachJunitReporter(bus: EventBus, file: string): void {
  const cases = new Map<string, Case>();
  let playbook = 'mirrorctl';
  let properties: Array<[string, string]> = [];
  bus.on((event) => {
    if (event.event === 'run.start') playbook = event.playbook;
    if (event.event === 'probe.summary') properties = probeProperties(event);
    if (event.event === 'step.check') record(cases, event);
    if (event.event === 'step.end') {
      const c = cases.get(event.step) ?? { name: event.step, action: '', ms: 0, state: 'passed', message: '' };
      c.ms = event.ms;
      c.state = event.outcome === 'failed' || event.outcome === 'blocked' ? 'failed' : event.outcome === 'skipped' ? 'skipped' : 'passed';
      if (event.error) c.message = event.error;
      cases.set(event.step, c);
    }
    if (event.event === 'run.end') {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, toXml(playbook, [...cases.values()], event.ms, properties));
    }
  });
}

function record(cases: Map<string, Case>, event: Extract<RunEvent, { event: 'step.check' }>): void {
  const state = event.status === 'blocked' ? 'failed' : event.status === 'skipped' ? 'skipped' : 'passed';
  cases.set(event.step, { name: event.step, action: event.action, ms: event.ms, state, message: event.summary });
}

/** The numeric and boolean fields of probe.summary by their names (spec 4, 10); null is an empty value. */
function probeProperties(summary: Extract<RunEvent, { event: 'probe.summary' }>): Array<[string, string]> {
  const fields: Array<[string, number | boolean | null]> = [
    ['requests', summary.requests],
    ['failed_requests', summary.failed_requests],
    ['write_requests', summary.write_requests],
    ['failed_writes', summary.failed_writes],
    ['reachable', summary.reachable],
    ['longest_outage_ms', summary.longest_outage_ms],
    ['outage_open', summary.outage_open],
    ['data_loss_wal_bytes', summary.data_loss.wal_bytes],
  ];
  return fields.map(([name, value]) => [name, value === null ? '' : String(value)]);
}

function toXml(suite: string, cases: Case[], ms: number, properties: Array<[string, string]>): string {
  const failures = cases.filter((c) => c.state === 'failed').length;
  const skipped = cases.filter((c) => c.state === 'skipped').length;
  const body = cases
    .map((c) => {
      const open = `    <testcase classname="mirrorctl.${esc(suite)}" name="${esc(c.name)}" time="${(c.ms / 1000).toFixed(3)}"`;
      if (c.state === 'failed') return `${open}>\n      <failure message="${esc(c.message)}">${esc(c.action)}: ${esc(c.message)}</failure>\n    </testcase>`;
      if (c.state === 'skipped') return `${open}>\n      <skipped message="${esc(c.message)}"/>\n    </testcase>`;
      return `${open}/>`;
    })
    .join('\n');
  const props = properties.length > 0 ? `    <properties>\n${properties.map(([n, v]) => `      <property name="${esc(n)}" value="${esc(v)}"/>`).join('\n')}\n    </properties>\n` : '';
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n  <testsuite name="${esc(suite)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${(ms / 1000).toFixed(3)}">\n${props}${body}\n  </testsuite>\n</testsuites>\n`;
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, '');
}
