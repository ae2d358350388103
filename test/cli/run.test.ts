import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { events, localSite, runCli } from '../helpers/cli.js';

const PLAYBOOK = (marker: string) => `name: demo
summary: a small local playbook
params:
  note: { default: hello }
steps:
  - id: precondition
    action: assert
    host: local
    with: { run: "true", message: always holds }
  - id: sessions-ro
    action: sessions.mode
    host: local
    with: { mode: read-only }
  - id: write-marker
    action: service.run
    host: local
    with:
      run: printf '%s' {{ params.note }} > ${marker}
      unless: test -f ${marker}
  - id: echo-note
    action: service.run
    host: local
    with: { run: "cat ${marker}" }
`;

describe('mirrorctl run (spawned, local host)', () => {
  it('dry run changes nothing and emits only plan checks; exit 0', async () => {
    const site = localSite();
    const marker = join(site.dir, 'marker');
    site.playbook('demo', PLAYBOOK(marker));
    const before = readFileSync(site.appIni);
    const r = await runCli(['run', 'demo', '-c', site.inventory, '--state-dir', site.stateDir, '--dry-run', '--json']);
    expect(r.code).toBe(0);
    const evs = events(r.stdout);
    expect(evs[0]).toMatchObject({ event: 'run.start', playbook: 'demo', dry_run: true, params: { note: 'hello' } });
    expect(evs.filter((e) => e.event === 'step.check').map((e) => [e.step, e.phase, e.status])).toEqual([
      ['precondition', 'plan', 'ready'],
      ['sessions-ro', 'plan', 'ready'],
      ['write-marker', 'plan', 'ready'],
      ['echo-note', 'plan', 'ready'],
    ]);
    expect(evs.some((e) => e.event === 'step.end')).toBe(false);
    expect(evs.at(-1)).toMatchObject({ event: 'run.end', outcome: 'planned', exit_code: 0, changed: [] });
    for (const e of evs) {
      expect(typeof e.ts).toBe('string');
      expect(new Date(e.ts).toISOString()).toBe(e.ts);
      expect(e.run_id).toBe(evs[0]!.run_id);
    }
    expect(readFileSync(site.appIni).equals(before)).toBe(true);
    expect(existsSync(marker)).toBe(false);
    const journal = readFileSync(join(site.stateDir, 'runs', `${evs[0]!.run_id}.ndjson`), 'utf8');
    expect(journal).toBe(r.stdout);

    // `mirrorctl runs` lists it, and shows its journal
    const list = await runCli(['runs', '--state-dir', site.stateDir]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${evs[0]!.run_id}\\s+demo .*dry run\\s+planned\\s+exit 0`));
    const show = await runCli(['runs', evs[0]!.run_id, '--state-dir', site.stateDir]);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/check   sessions-ro \[plan\] ready on local: session\.backend: database → memcache/);
    const showJson = await runCli(['runs', evs[0]!.run_id, '--state-dir', site.stateDir, '--json']);
    expect(showJson.stdout).toBe(journal);
    const missing = await runCli(['runs', 'no-such-run', '--state-dir', site.stateDir]);
    expect(missing.code).toBe(2);
  });

  it('real run applies; a second run reports every changing step done and changes nothing', async () => {
    const site = localSite();
    const marker = join(site.dir, 'marker');
    site.playbook('demo', PLAYBOOK(marker));
    const junit = join(site.dir, 'junit.xml');
    const first = await runCli(['run', 'demo', '-c', site.inventory, '--state-dir', site.stateDir, '--yes', '--json', '--junit', junit, '--set', 'note=hi there']);
    expect(first.code).toBe(0);
    const ends = events(first.stdout).filter((e) => e.event === 'step.end');
    expect(ends.map((e) => [e.step, e.outcome])).toEqual([
      ['precondition', 'unchanged'],
      ['sessions-ro', 'changed'],
      ['write-marker', 'changed'],
      ['echo-note', 'changed'],
    ]);
    expect(readFileSync(marker, 'utf8')).toBe('hi there');
    expect(readFileSync(site.appIni, 'utf8')).toBe('# the app\n[session]\nsession.backend   =  memcache   # where sessions live\nother.key = 1\n');
    const xml = new XMLParser({ ignoreAttributes: false }).parse(readFileSync(junit, 'utf8'));
    const cases = [xml.testsuites.testsuite.testcase].flat();
    expect(cases.map((c: Record<string, string>) => c['@_name'])).toEqual(['precondition', 'sessions-ro', 'write-marker', 'echo-note']);
    expect(cases.some((c: Record<string, unknown>) => 'failure' in c)).toBe(false);

    const afterFirst = readFileSync(site.appIni);
    const second = await runCli(['run', 'demo', '-c', site.inventory, '--state-dir', site.stateDir, '--yes', '--json', '--set', 'note=hi there']);
    expect(second.code).toBe(0);
    const ends2 = events(second.stdout).filter((e) => e.event === 'step.end');
    expect(ends2.find((e) => e.step === 'sessions-ro')!.outcome).toBe('unchanged');
    expect(ends2.find((e) => e.step === 'write-marker')!.outcome).toBe('unchanged');
    expect(readFileSync(site.appIni).equals(afterFirst)).toBe(true);
  });

  it('a failing step exits 1, later steps do not run, and a fixed re-run completes skipping done steps', async () => {
    const site = localSite();
    const gate = join(site.dir, 'gate');
    const after = join(site.dir, 'after');
    site.playbook(
      'fails',
      `name: fails
summary: fails until the gate file exists
steps:
  - id: sessions-ro
    action: sessions.mode
    host: local
    with: { mode: read-only }
  - id: needs-gate
    action: service.run
    host: local
    with: { run: "test -f ${gate} && touch ${gate}.used", unless: "test -f ${gate}.used" }
  - id: after
    action: service.run
    host: local
    with: { run: "touch ${after}", unless: "test -f ${after}" }
`,
    );
    const r = await runCli(['run', 'fails', '-c', site.inventory, '--state-dir', site.stateDir, '--yes', '--json']);
    expect(r.code).toBe(1);
    const evs = events(r.stdout);
    expect(evs.filter((e) => e.event === 'step.end').map((e) => [e.step, e.outcome])).toEqual([
      ['sessions-ro', 'changed'],
      ['needs-gate', 'failed'],
      ['after', 'skipped'],
    ]);
    expect(existsSync(after)).toBe(false);
    expect(r.stderr).toMatch(/needs-gate/);
    expect(r.stderr).toMatch(/resume/);
    const journal = readFileSync(join(site.stateDir, 'runs', `${evs[0]!.run_id}.ndjson`), 'utf8');
    expect(journal).toMatch(/"step":"needs-gate","outcome":"failed"/);

    writeFileSync(gate, '');
    const again = await runCli(['run', 'fails', '-c', site.inventory, '--state-dir', site.stateDir, '--yes', '--json']);
    expect(again.code).toBe(0);
    expect(events(again.stdout).filter((e) => e.event === 'step.end').map((e) => [e.step, e.outcome])).toEqual([
      ['sessions-ro', 'unchanged'],
      ['needs-gate', 'changed'],
      ['after', 'changed'],
    ]);
  });

  it('a blocked check exits 3 and changes nothing', async () => {
    const site = localSite();
    const marker = join(site.dir, 'marker');
    site.playbook(
      'blocked',
      `name: blocked
summary: blocked by an assert
steps:
  - id: write
    action: service.run
    host: local
    with: { run: "touch ${marker}" }
  - id: must-hold
    action: assert
    host: local
    with: { run: "false", message: the moon is full }
`,
    );
    const before = readFileSync(site.appIni);
    const r = await runCli(['run', 'blocked', '-c', site.inventory, '--state-dir', site.stateDir, '--yes', '--json']);
    expect(r.code).toBe(3);
    const evs = events(r.stdout);
    expect(evs.find((e) => e.event === 'step.check' && e.step === 'must-hold')).toMatchObject({ status: 'blocked', phase: 'plan' });
    expect(evs.at(-1)).toMatchObject({ event: 'run.end', outcome: 'blocked', exit_code: 3 });
    expect(existsSync(marker)).toBe(false);
    expect(readFileSync(site.appIni).equals(before)).toBe(true);
    expect(r.stderr).toMatch(/must-hold/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('without a terminal and without --yes: exit 2 (refused) and nothing changed; a plan with nothing to change completes', async () => {
    const site = localSite();
    const marker = join(site.dir, 'marker');
    site.playbook('demo', PLAYBOOK(marker));
    const before = readFileSync(site.appIni);
    const r = await runCli(['run', 'demo', '-c', site.inventory, '--state-dir', site.stateDir, '--json']);
    expect(r.code).toBe(2);
    expect(events(r.stdout).at(-1)).toMatchObject({ event: 'run.end', outcome: 'refused', exit_code: 2 });
    expect(r.stderr).toMatch(/--yes/);
    expect(readFileSync(site.appIni).equals(before)).toBe(true);
    expect(existsSync(marker)).toBe(false);

    site.playbook('look', `name: look\nsummary: only looks\nsteps:\n  - id: ok\n    action: assert\n    host: local\n    with: { run: "true" }\n`);
    const look = await runCli(['run', 'look', '-c', site.inventory, '--state-dir', site.stateDir, '--json']);
    expect(look.code).toBe(0);
    expect(events(look.stdout).at(-1)).toMatchObject({ outcome: 'succeeded' });
  });

  it('template values reach commands as literal data, never executed', async () => {
    const site = localSite();
    const out = join(site.dir, 'out');
    const pwned = join(site.dir, 'pwned');
    site.playbook('echo', `name: echo\nsummary: echoes a note\nparams:\n  note: { required: true }\nsteps:\n  - id: echo\n    action: service.run\n    host: local\n    with: { run: "printf '%s' {{ params.note }} > ${out}" }\n`);
    const note = `a $(touch ${pwned}) \`touch ${pwned}\`; touch ${pwned} 'q' "dq"\nline2`;
    const r = await runCli(['run', 'echo', '-c', site.inventory, '--state-dir', site.stateDir, '--yes', '--set', `note=${note}`]);
    expect(r.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(note);
    expect(existsSync(pwned)).toBe(false);
  });
});

describe('secrets', () => {
  it('a value read from a *_env variable never appears in output, events, journal or JUnit', async () => {
    const secret = 'hunter2-very-secret';
    const site = localSite('database:\n  hosts: [local, local2]\n  password_env: MIRRORCTL_TEST_DB_PASSWORD\n');
    writeFileSync(site.inventory, readFileSync(site.inventory, 'utf8').replace('hosts:\n  local:\n    local: true\n', 'hosts:\n  local:\n    local: true\n  local2:\n    local: true\n'));
    site.playbook('leak', `name: leak\nsummary: a command that prints the secret, then fails with it\nsteps:\n  - id: print\n    action: service.run\n    host: local\n    with: { run: 'printf "%s" "$MIRRORCTL_TEST_DB_PASSWORD"' }\n  - id: fail\n    action: service.run\n    host: local\n    with: { run: 'echo "bad password $MIRRORCTL_TEST_DB_PASSWORD" >&2; exit 1' }\n`);
    const junit = join(site.dir, 'junit.xml');
    const env = { MIRRORCTL_TEST_DB_PASSWORD: secret };
    const json = await runCli(['run', 'leak', '-c', site.inventory, '--state-dir', site.stateDir, '--yes', '--json', '--junit', junit], { env });
    expect(json.code).toBe(1);
    const human = await runCli(['run', 'leak', '-c', site.inventory, '--state-dir', site.stateDir, '--yes', '-v'], { env });
    expect(human.code).toBe(1);
    const evs = events(json.stdout);
    expect(evs.find((e) => e.event === 'step.end' && e.step === 'fail')!.error).toMatch(/bad password \*\*\*/);
    const journals = readdirSync(join(site.stateDir, 'runs')).map((f) => readFileSync(join(site.stateDir, 'runs', f), 'utf8'));
    for (const text of [json.stdout, json.stderr, human.stdout, human.stderr, readFileSync(junit, 'utf8'), ...journals]) {
      expect(text).not.toContain(secret);
    }
  });
});
