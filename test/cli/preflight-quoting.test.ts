import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { localSite, runCli } from '../helpers/cli.js';

// An inventory `checks` command is a command like a step's `run`: a template in it is one quoted word.
describe('inventory checks', () => {
  it('a --set value with shell syntax stays data in a preflight check, even in a dry run', async () => {
    const site = localSite();
    const pwned = join(site.dir, 'pwned');
    const echoed = join(site.dir, 'echoed');
    const inventory = site.inventory;
    const { appendFileSync } = await import('node:fs');
    appendFileSync(inventory, `checks:\n  - name: note is printable\n    run: printf '%s' {{ params.note }} > ${echoed}\n    hosts: [local]\n`);
    site.playbook('noop', 'name: noop\nsummary: nothing\nparams:\n  note: { default: x }\nsteps:\n  - id: hold\n    action: assert\n    host: local\n    with: { run: "true", message: holds }\n');
    const r = await runCli(['run', 'noop', '-c', inventory, '--state-dir', site.stateDir, '--dry-run', '--set', `note=a; touch ${pwned}`]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(pwned)).toBe(false);
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(echoed, 'utf8')).toBe(`a; touch ${pwned}`);
  });
});
