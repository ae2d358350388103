import { beforeAll, describe, expect, test } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { loadInventory } from '../../src/inventory/load.js';
import type { Inventory } from '../../src/inventory/schema.js';
import { loadPlaybook, parseSetOptions, type LoadPlaybookOptions } from '../../src/playbook/load.js';
import { ACTIONS } from './fake-actions.js';

const DEMO = 'test/fixtures/good/playbooks/demo.yaml';
const BAD = 'test/fixtures/bad';
let inventory: Inventory;
let minimal: Inventory;

beforeAll(async () => {
  inventory = await loadInventory('test/fixtures/good/mirrorctl.yaml');
  minimal = await loadInventory('test/fixtures/good/minimal.yaml');
});

function load(file: string, options: Partial<LoadPlaybookOptions> = {}) {
  return loadPlaybook(file, { inventory, actions: ACTIONS, ...options });
}

// The ConfigError a load must raise.
async function configErrorOf(file: string, options: Partial<LoadPlaybookOptions> = {}): Promise<ConfigError> {
  const error = await load(file, options).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error, `${file} should be refused`).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe('loadPlaybook: a good playbook', () => {
  test('resolves params and builds steps', async () => {
    const playbook = await load(DEMO, { params: { to: 'web2', from: 'web1', mode: undefined } });
    expect(playbook).toMatchObject({ file: DEMO, name: 'demo', summary: 'A small failover-like playbook for the loader tests' });
    expect(playbook.params).toEqual({ to: 'web2', from: 'web1', mode: 'promote', lag: 1024, dry: false });
    expect(playbook.steps.map((s) => [s.id, s.timeoutMs, s.retries, s.line])).toEqual([
      ['stop-old', 60_000, 0, 10],
      ['wait-replay', 120_000, 0, 14],
      ['promote', 60_000, 2, 20],
      ['move-ip', 30_000, 0, 25],
      ['flush-cache', 500, 0, 29],
      ['announce', 1500, 0, 32],
    ]);
    const [stopOld, waitReplay, , moveIp, , announce] = playbook.steps;
    expect(stopOld).toMatchObject({ host: '{{ params.from }}', optional: true, with: {}, when: {}, uses: [], name: null });
    expect(waitReplay).toMatchObject({ with: { lsn: '{{ steps.stop-old.lsn }}' }, when: { 'params.mode': 'promote' }, uses: ['stop-old'] });
    expect(moveIp).toMatchObject({ host: null, optional: false });
    expect(announce?.uses).toEqual(['promote']);
  });

  test('--set overrides command values and converts to the default type', async () => {
    const set = parseSetOptions(['to=web1', 'mode=read-only', 'lag=2048', 'dry=yes']);
    const playbook = await load(DEMO, { params: { to: 'web2' }, set });
    expect(playbook.params).toEqual({ to: 'web1', from: null, mode: 'read-only', lag: 2048, dry: true });
  });

  test('validateOnly accepts a required parameter without a value', async () => {
    const playbook = await load(DEMO, { validateOnly: true });
    expect(playbook.params.to).toBeNull();
  });
});

interface BadCase {
  fixture: string;
  expected: string;
  line: number;
  options?: Partial<LoadPlaybookOptions>;
}

const TO = { params: { to: 'web2' } };
const BAD_PLAYBOOKS: BadCase[] = [
  { fixture: 'pb-yaml-syntax.yaml', expected: 'Nested mappings are not allowed in compact mappings', line: 5 },
  { fixture: 'pb-unknown-top-key.yaml', expected: 'parameters: unknown key', line: 3 },
  { fixture: 'pb-unknown-step-key.yaml', expected: 'steps[0].retry: unknown key', line: 8 },
  { fixture: 'pb-wrong-types.yaml', expected: 'steps[0].optional: expected true or false, got string', line: 8 },
  { fixture: 'pb-bad-timeout.yaml', expected: 'steps[0].timeout: must be a duration like 30s', line: 8 },
  { fixture: 'pb-unknown-action.yaml', expected: 'steps[1].action: unknown action "postgres.promot"', line: 9 },
  { fixture: 'pb-duplicate-id.yaml', expected: 'steps[2].id: duplicate id "promote" (first at line 4)', line: 11 },
  { fixture: 'pb-later-step-ref.yaml', expected: 'steps[0].with.lsn: {{ steps.stop-old.lsn }} refers to step stop-old which does not run before it', line: 8 },
  { fixture: 'pb-self-ref.yaml', expected: 'steps[1].with.run: {{ steps.echo.stdout }} refers to step echo which does not run before it', line: 11 },
  { fixture: 'pb-unknown-output.yaml', expected: 'steps[1].with.lsn: {{ steps.stop-old.lsnn }} names output "lsnn", which step stop-old (postgres.stop) does not produce', line: 10 },
  { fixture: 'pb-unknown-param.yaml', expected: 'steps[0].host: {{ params.target }} refers to unknown parameter "target"', line: 8, options: TO },
  { fixture: 'pb-unbalanced.yaml', expected: 'steps[1].with.run: unbalanced braces', line: 13 },
  { fixture: 'pb-not-a-reference.yaml', expected: 'steps[0].with.run: "{{ env.HOME }}" is not a reference', line: 8 },
  { fixture: 'pb-unknown-inventory-path.yaml', expected: 'steps[0].with.run: {{ inventory.database.prot }} is not set in test/fixtures/good/mirrorctl.yaml', line: 8 },
  { fixture: 'pb-when-bad-choice.yaml', expected: 'steps[0].when.params.mode: "promoted" is not one of promote, read-only', line: 10 },
  { fixture: 'pb-when-unknown-ref.yaml', expected: 'steps[0].when.params.mood: params.mood refers to unknown parameter "mood"', line: 9 },
  { fixture: 'pb-step-missing-host.yaml', expected: 'steps[1].host: required (action ip.release runs on a host)', line: 8 },
  { fixture: 'pb-unknown-with-key.yaml', expected: 'steps[0].with.too: unknown key', line: 8 },
  { fixture: 'pb-undefined-host.yaml', expected: 'steps[1].host: host "web9" is not defined in test/fixtures/good/mirrorctl.yaml', line: 10 },
  { fixture: '../good/playbooks/demo.yaml', expected: 'params.to: parameter "to" is required; pass --set to=HOST', line: 4 },
  { fixture: '../good/playbooks/demo.yaml', expected: 'params.mode: parameter "mode" is "fast", not one of promote, read-only', line: 6, options: { ...TO, set: { mode: 'fast' } } },
  { fixture: '../good/playbooks/demo.yaml', expected: 'params.speed: --set speed: unknown parameter', line: 3, options: { ...TO, set: { speed: '3' } } },
  { fixture: '../good/playbooks/demo.yaml', expected: 'params.lag: --set lag: expected a number', line: 7, options: { ...TO, set: { lag: 'lots' } } },
  { fixture: '../good/playbooks/demo.yaml', expected: 'steps[0].host: host "web7" is not defined', line: 12, options: { params: { to: 'web2', from: 'web7' } } },
  { fixture: '../good/playbooks/demo.yaml', expected: 'params.target: the command sets parameter "target"', line: 3, options: { params: { to: 'web2', target: 'web1' } } },
];

describe('loadPlaybook: malformed playbooks', () => {
  test.each(BAD_PLAYBOOKS)('$fixture → line $line, $expected', async ({ fixture, expected, line, options }) => {
    const file = `${BAD}/${fixture}`;
    const error = await configErrorOf(file, options);
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain(expected);
    expect(error.message.startsWith(`${file}:${line} `)).toBe(true);
    expect(error.message).not.toContain('\n');
    expect(error.hint).toBeTruthy();
  });

  test('an unknown action lists the known ones', async () => {
    const error = await configErrorOf(`${BAD}/pb-unknown-action.yaml`);
    expect(error.hint).toContain('did you mean postgres.promote?');
    expect(error.hint).toContain('service.run');
  });

  test('an unknown with key suggests the right one', async () => {
    expect((await configErrorOf(`${BAD}/pb-unknown-with-key.yaml`)).hint).toBe('did you mean `to`? ip.move takes: from, to');
  });

  test('a missing inventory section is named at load time, with the step that needs it', async () => {
    const file = `${BAD}/pb-flush.yaml`;
    const error = await configErrorOf(file, { inventory: minimal });
    expect(error.message).toBe(
      `test/fixtures/good/minimal.yaml: section "memcached" is missing; step flush-cache (memcached.flush) needs it (${file}:9 steps[1].action)`,
    );
    expect(error.hint).toContain('add a memcached section');
  });

  test('a missing file', async () => {
    const error = await configErrorOf(`${BAD}/nope.yaml`);
    expect(error.message).toBe(`cannot read playbook ${BAD}/nope.yaml: no such file`);
    expect(error.hint).toContain('mirrorctl playbooks');
  });
});

describe('parseSetOptions', () => {
  test('splits at the first =', () => {
    expect(parseSetOptions(['to=web2', 'cmd=a=b', 'empty='])).toEqual({ to: 'web2', cmd: 'a=b', empty: '' });
  });

  test('refuses an option without =', () => {
    expect(() => parseSetOptions(['bad'])).toThrow(ConfigError);
    expect(() => parseSetOptions(['=x'])).toThrow('--set =x: expected NAME=VALUE');
  });
});
