import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { events, runCli } from '../helpers/cli.js';

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

  it('a missing inventory and an unknown playbook name say what to do next', async () => {
    const missing = await runCli(['status', '-c', '/nonexistent/mirrorctl.yaml']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/\/nonexistent\/mirrorctl\.yaml.*(-c|MIRRORCTL_CONFIG)/);
    const unknown = await runCli(['run', 'no-such-playbook', '-c', GOOD_INVENTORY]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no-such-playbook.*mirrorctl playbooks/);
  });
});
