import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { events, localSite, runCli } from '../helpers/cli.js';

// --junit as a CI reads it: a failed and a blocked step are <failure>, a skipped one <skipped>.
type Case = Record<string, any>;

function junitCases(file: string): { suite: Case; cases: Map<string, Case> } {
  const xml = new XMLParser({ ignoreAttributes: false }).parse(readFileSync(file, 'utf8'));
  const suite = xml.testsuites.testsuite as Case;
  const cases = [suite.testcase].flat() as Case[];
  return { suite, cases: new Map(cases.map((c) => [c['@_name'] as string, c])) };
}

describe('--junit', () => {
  it('a failed step is a failure with its error, steps after it and a when-false step are skipped', async () => {
    const site = localSite();
    site.playbook(
      'mixed',
      `name: mixed
summary: one step changes, one is not for this mode, one fails, one is never reached
params:
  mode: { default: promote }
steps:
  - id: first
    action: service.run
    host: local
    with: { run: "true" }
  - id: only-read-only
    action: service.run
    host: local
    when: { params.mode: read-only }
    with: { run: "true" }
  - id: breaks
    action: service.run
    host: local
    with: { run: "echo disk full >&2; exit 7" }
  - id: never
    action: service.run
    host: local
    with: { run: "true" }
`,
    );
    const junit = join(site.dir, 'junit.xml');
    const r = await runCli(['run', 'mixed', '-c', site.inventory, '--state-dir', site.stateDir, '--yes', '--json', '--junit', junit]);
    expect(r.code).toBe(1);
    expect(events(r.stdout).filter((e) => e.event === 'step.end').map((e) => [e.step, e.outcome])).toEqual([
      ['first', 'changed'],
      ['only-read-only', 'skipped'],
      ['breaks', 'failed'],
      ['never', 'skipped'],
    ]);
    const { suite, cases } = junitCases(junit);
    expect(suite['@_tests']).toBe('4');
    expect(suite['@_failures']).toBe('1');
    expect(suite['@_skipped']).toBe('2');
    expect('failure' in cases.get('first')! || 'skipped' in cases.get('first')!).toBe(false);
    expect(cases.get('breaks')!.failure['@_message']).toMatch(/disk full|exited 7|exit 7/);
    expect('skipped' in cases.get('only-read-only')!).toBe(true);
    expect('skipped' in cases.get('never')!).toBe(true);
  });

  it('a blocked check is a failure naming what blocked; the run changes nothing', async () => {
    const site = localSite();
    site.playbook(
      'gated',
      `name: gated
summary: blocked by its precondition
steps:
  - id: gate
    action: assert
    host: local
    with: { run: "false", message: the gate is closed }
  - id: change
    action: sessions.mode
    host: local
    with: { mode: read-only }
`,
    );
    const before = readFileSync(site.appIni, 'utf8');
    const junit = join(site.dir, 'junit.xml');
    const r = await runCli(['run', 'gated', '-c', site.inventory, '--state-dir', site.stateDir, '--yes', '--json', '--junit', junit]);
    expect(r.code).toBe(3);
    const { suite, cases } = junitCases(junit);
    expect(Number(suite['@_failures'])).toBeGreaterThanOrEqual(1);
    expect(cases.get('gate')!.failure['@_message']).toMatch(/gate is closed/);
    expect(readFileSync(site.appIni, 'utf8')).toBe(before);
  });
});
