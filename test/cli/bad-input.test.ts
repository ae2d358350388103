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

  it('a missing inventory and an unknown playbook name say what to do next', async () => {
    const missing = await runCli(['status', '-c', '/nonexistent/mirrorctl.yaml']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/\/nonexistent\/mirrorctl\.yaml.*(-c|MIRRORCTL_CONFIG)/);
    const unknown = await runCli(['run', 'no-such-playbook', '-c', GOOD_INVENTORY]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no-such-playbook.*mirrorctl playbooks/);
  });
});
