import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { events, localSite, runCli } from '../helpers/cli.js';

// Every malformed inventory and playbook of test/fixtures/bad, through the real CLI:
// exit 2, one `error` event with --json, one line on stderr naming file, line and key, no stack trace.
const BAD = 'test/fixtures/bad';
const GOOD_INVENTORY = 'test/fixtures/good/mirrorctl.yaml';
const fixtures = readdirSync(BAD).filter((f) => f.endsWith('.yaml'));
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('bad input through the CLI', () => {
  it('has at least 20 malformed inventories and playbooks', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(20);
  });

  for (const fixture of fixtures) {
    it(`${fixture}: exit 2, one located sentence, nothing else`, async () => {
      const path = `${BAD}/${fixture}`;
      const args = fixture.startsWith('inv-') ? ['validate', '-c', path, '--json'] : ['validate', path, '-c', GOOD_INVENTORY, '--json'];
      const r = await runCli(args);
      expect(r.code).toBe(2);
      const evs = events(r.stdout);
      expect(evs).toHaveLength(1);
      expect(evs[0]).toMatchObject({ event: 'error', run_id: null, exit_code: 2 });
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^error: ${path.replace(/[.]/g, '\\.')}:\\d+ `));
      expect(r.stderr).not.toMatch(/\n\s+at |Error:/);
    });
  }

  it('a template the shell would read quoted or in a here-document: exit 2 naming file, line, key and quoting', async () => {
    const cases = [
      ['pb-template-double-quotes.yaml', ':10 steps[0].with.run: {{ params.note }} is inside double quotes'],
      ['pb-template-single-quotes.yaml', ':16 steps[1].with.unless: {{ params.note }} is inside single quotes'],
      ['pb-template-heredoc.yaml', ':11 steps[0].with.run: {{ params.note }} is inside a here-document'],
    ];
    for (const [fixture, where] of cases) {
      const path = `${BAD}/${fixture}`;
      for (const args of [['validate', path], ['run', path, '--dry-run']]) {
        const r = await runCli([...args, '-c', GOOD_INVENTORY]);
        expect(r.code, `${args.join(' ')}`).toBe(2);
        expect(r.stderr).toMatch(new RegExp(`^error: ${escape(path + where!)}, where quoting its value would break the command`));
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
      }
    }
    const inventory = `${BAD}/inv-check-template-quoted.yaml`;
    const r = await runCli(['validate', '-c', inventory]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^error: ${escape(`${inventory}:9 checks[1].run: {{ inventory.site }} is inside double quotes`)}`));
  });

  it('every bundled playbook and every good fixture stays valid (templates in "$(…)" included)', async () => {
    for (const playbook of readdirSync('playbooks').filter((f) => f.endsWith('.yaml'))) {
      const r = await runCli(['validate', `playbooks/${playbook}`, '-c', GOOD_INVENTORY]);
      expect(r.code, `${playbook}: ${r.stderr}`).toBe(0);
    }
    for (const args of [['-c', GOOD_INVENTORY], ['maintenance', '-c', 'test/fixtures/local-site/mirrorctl.yaml']]) {
      const r = await runCli(['validate', ...args]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
  });

  it('--set of a parameter the command discovers is a usage error, before the inventory is read or any host contacted', async () => {
    const cases: Array<[string[], string]> = [
      [['failover', '--set', 'to=web2'], 'error: --set to=web2: failover sets "to" itself (the target comes from --to, else the single reachable replica); use --to web2 instead'],
      [['failover', '--to', 'web2', '--set', 'from=web1'], 'error: --set from=web1: failover sets "from" itself (it is the other host of database.hosts); use --to HOST to choose the target instead'],
      [['switchover', '--set', 'to=web1'], 'error: --set to=web1: switchover sets "to" itself (the target comes from --to, else the single reachable replica); use --to web1 instead'],
      [['switchover', '--set', 'from=web2'], 'error: --set from=web2: switchover sets "from" itself (it is the other host of database.hosts); use --to HOST to choose the target instead'],
      [['rejoin', 'web1', '--set', 'host=web2'], 'error: --set host=web2: rejoin sets "host" itself (the host to rejoin is the HOST argument); use mirrorctl rejoin web2 instead'],
      [['rejoin', 'web1', '--set', 'primary=web2'], 'error: --set primary=web2: rejoin sets "primary" itself (it is the other host of database.hosts); name the host to rejoin as the HOST argument instead (mirrorctl rejoin HOST)'],
    ];
    for (const [args, sentence] of cases) {
      // A missing inventory would be exit 2 too, with another sentence: the --set is refused first.
      const r = await runCli([...args, '-c', '/nonexistent/mirrorctl.yaml', '--json', '--yes']);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toBe(`${sentence}\n`);
      expect(events(r.stdout)).toEqual([expect.objectContaining({ event: 'error', run_id: null, exit_code: 2, message: sentence.slice('error: '.length) })]);
    }
    // Other --set values are checked against the playbook before discovery contacts a host.
    const unknown = await runCli(['failover', '--set', 'colour=blue', '-c', 'test/fixtures/local-site/mirrorctl.yaml']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error: \S+failover\.yaml:\d+ params\.colour: --set colour: unknown parameter; this playbook's parameters: to, from, mode\n$/);
  });

  it('run discovers nothing: --set to, from, host and primary are parameters like any other', async () => {
    const site = localSite();
    const out = join(site.dir, 'out');
    site.playbook('names', `name: names\nsummary: prints its parameters\nparams:\n  to: {}\n  from: {}\n  host: {}\n  primary: {}\nsteps:\n  - id: print\n    action: service.run\n    host: local\n    with: { run: "printf '%s,' {{ params.to }} {{ params.from }} {{ params.host }} {{ params.primary }} > ${out}" }\n`);
    const r = await runCli(['run', 'names', '-c', site.inventory, '--state-dir', site.stateDir, '--yes', '--set', 'to=a', '--set', 'from=b', '--set', 'host=c', '--set', 'primary=d']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe('a,b,c,d,');
  });

  it('an alias bomb or an alias to no anchor is exit 2 naming the file and line, never an internal error', async () => {
    const bomb = `${BAD}/pb-alias-bomb.yaml`;
    const cases: Array<[string[], string]> = [
      [['validate', '-c', `${BAD}/inv-alias-bomb.yaml`], `error: ${BAD}/inv-alias-bomb.yaml:6 too many YAML aliases: expanding them would build a huge document (an alias bomb); `],
      [['status', '-c', `${BAD}/inv-alias-bomb.yaml`], `error: ${BAD}/inv-alias-bomb.yaml:6 too many YAML aliases: `],
      [['validate', bomb, '-c', GOOD_INVENTORY], `error: ${bomb}:8 too many YAML aliases: `],
      [['run', bomb, '-c', GOOD_INVENTORY, '--dry-run'], `error: ${bomb}:8 too many YAML aliases: `],
      [['validate', '-c', `${BAD}/inv-unresolved-alias.yaml`], `error: ${BAD}/inv-unresolved-alias.yaml:4 alias *web2 names no anchor defined before it; `],
    ];
    for (const [args, start] of cases) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.startsWith(start), r.stderr).toBe(true);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('control characters from a file are shown escaped: on stderr, in the error event, in playbook listings', async () => {
    const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
    const inventory = await runCli(['validate', '-c', `${BAD}/inv-control-chars.yaml`, '--json']);
    expect(inventory.code).toBe(2);
    expect(inventory.stderr).toMatch(/^error: \S+inv-control-chars\.yaml:5 \\x1b\[31mdatabase\\x1b\[0m\\r: unknown key; /);
    expect(events(inventory.stdout)[0]!.message).toContain('\\x1b[31mdatabase\\x1b[0m\\r: unknown key');
    const playbook = await runCli(['validate', `${BAD}/pb-control-chars.yaml`, '-c', GOOD_INVENTORY, '--json']);
    expect(playbook.code).toBe(2);
    expect(playbook.stderr).toContain('unknown action "service.run\\x1b[2J\\x1b[H\\r"');
    for (const text of [inventory.stderr, inventory.stdout, events(inventory.stdout)[0]!.message, playbook.stderr, events(playbook.stdout)[0]!.message]) {
      expect(text.trimEnd()).not.toMatch(CONTROL);
    }
    const site = localSite();
    site.playbook('paint', 'name: "paint\\e[31m"\nsummary: "clears the screen\\e[2J\\e[H"\nsteps:\n  - id: ok\n    action: assert\n    host: local\n    with: { run: "true" }\n');
    const list = await runCli(['playbooks', '-c', site.inventory]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/paint +clears the screen\\x1b\[2J\\x1b\[H\n/);
    const valid = await runCli(['validate', 'paint', '-c', site.inventory]);
    expect(valid.code).toBe(0);
    expect(valid.stdout).toContain('(paint\\x1b[31m, 1 steps)');
    for (const text of [list.stdout, valid.stdout]) expect(text.replace(/\n/g, '')).not.toMatch(CONTROL);
  });

  it('a missing inventory and an unknown playbook name say what to do next', async () => {
    const missing = await runCli(['status', '-c', '/nonexistent/mirrorctl.yaml']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/\/nonexistent\/mirrorctl\.yaml.*(-c|MIRRORCTL_CONFIG)/);
    const unknown = await runCli(['run', 'no-such-playbook', '-c', GOOD_INVENTORY]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no-such-playbook.*mirrorctl playbooks/);
  });
});

describe('secrets in errors printed by the top-level handler', () => {
  // A 3-character secret from ssh.passphrase_env: masked in the sentence, the --json event,
  // the --verbose stack and the causes under it. Without the variable the same run shows it.
  const SECRET = 'q%7'; // a % never appears in a temp dir's name
  const siteWithSecret = () => {
    const site = localSite('ssh:\n  passphrase_env: MIRRORCTL_TEST_PASSPHRASE\n');
    site.playbook('modes', 'name: modes\nsummary: a parameter with choices\nparams:\n  mode: { default: promote, choices: [promote, read-only] }\nsteps:\n  - id: ok\n    action: assert\n    host: local\n    with: { run: "true" }\n');
    return site;
  };
  const env = { MIRRORCTL_TEST_PASSPHRASE: SECRET };

  it('an error message and its --verbose stack carry the secret: only *** is shown', async () => {
    const site = siteWithSecret();
    const args = ['run', 'modes', '-c', site.inventory, '--state-dir', site.stateDir, '--set', `mode=${SECRET}`];
    const human = await runCli([...args, '-v'], { env });
    expect(human.code).toBe(2);
    expect(human.stderr).toMatch(/^error: \S+modes\.yaml:\d+ params\.mode: parameter "mode" is "\*\*\*", not one of promote, read-only/);
    expect(human.stderr).toMatch(/\n\s+at /);
    expect(human.stderr).toMatch(/ConfigError: .*"\*\*\*"/);
    const json = await runCli([...args, '--json', '-v'], { env });
    expect(json.code).toBe(2);
    expect(events(json.stdout)).toEqual([expect.objectContaining({ event: 'error', exit_code: 2, message: expect.stringContaining('"***"') })]);
    for (const text of [human.stdout, human.stderr, json.stdout, json.stderr]) expect(text).not.toContain(SECRET);
    const unmasked = await runCli([...args, '-v']);
    expect(unmasked.stderr).toContain(`"${SECRET}"`);
  });

  it('the causes printed under a --verbose stack are masked too', async () => {
    const site = siteWithSecret();
    const missing = join(site.dir, `${SECRET}-playbook.yaml`);
    const args = ['run', missing, '-c', site.inventory, '--state-dir', site.stateDir, '-v'];
    const masked = await runCli(args, { env });
    expect(masked.code).toBe(2);
    expect(masked.stderr).toMatch(/^error: cannot read playbook \S+\/\*\*\*-playbook\.yaml: no such file/);
    expect(masked.stderr).toMatch(/\ncaused by: Error: ENOENT: no such file or directory, open '\S+\/\*\*\*-playbook\.yaml'/);
    expect(masked.stderr).not.toContain(SECRET);
    const unmasked = await runCli(args);
    expect(unmasked.stderr).toMatch(new RegExp(`caused by: Error: ENOENT: .*${SECRET}-playbook\\.yaml`));
  });
});
