import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, localSite, runCli } from '../helpers/cli.js';

// A real terminal for the confirmation prompt: util-linux `script` gives the run a pty,
// and the operator's keystrokes arrive on it after the plan is shown.
function onTerminal(args: string[], keys: string, later: string[] = []): { code: number | null; screen: string } {
  const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const typed = [`sleep 4; printf '${keys}'`, ...later.map((k) => `sleep 3; printf '${k}'`), 'sleep 2'].join('; ');
  const r = spawnSync('sh', ['-c', `(${typed}) | script -qfec "${command.replace(/"/g, '\\"')}" /dev/null`], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, screen: r.stdout };
}

describe('confirmation on a terminal (default No)', () => {
  it('shows the plan, asks, and on "n" exits 130 with nothing changed', () => {
    const site = localSite();
    site.playbook('ro', `name: ro\nsummary: read-only sessions\nsteps:\n  - id: switch\n    action: sessions.mode\n    host: local\n    with: { mode: read-only }\n`);
    const before = readFileSync(site.appIni, 'utf8');
    const r = onTerminal(['run', 'ro', '-c', site.inventory, '--state-dir', site.stateDir], 'n\\r');
    expect(r.screen).toMatch(/database → memcache/);
    expect(r.screen).toMatch(/Apply 1 change\(s\) to site/);
    expect(r.code).toBe(130);
    expect(readFileSync(site.appIni, 'utf8')).toBe(before);
  });

  it('on "y" applies', () => {
    const site = localSite();
    site.playbook('ro', `name: ro\nsummary: read-only sessions\nsteps:\n  - id: switch\n    action: sessions.mode\n    host: local\n    with: { mode: read-only }\n`);
    const r = onTerminal(['run', 'ro', '-c', site.inventory, '--state-dir', site.stateDir], 'y\\r');
    expect(r.code).toBe(0);
    expect(readFileSync(site.appIni, 'utf8')).toMatch(/= {2}memcache/);
  });
});

describe('--step', () => {
  it('asks before each step: "y" runs it, "n" stops the run there (exit 130)', () => {
    const site = localSite();
    site.playbook('two', `name: two\nsummary: two steps\nsteps:\n  - id: first\n    action: service.run\n    host: local\n    with: { run: "touch ${site.dir}/first" }\n  - id: second\n    action: service.run\n    host: local\n    with: { run: "touch ${site.dir}/second" }\n`);
    const r = onTerminal(['run', 'two', '-c', site.inventory, '--state-dir', site.stateDir, '--step', '--yes'], 'y\\r', ['n\\r']);
    expect(r.screen).toMatch(/Run step first/);
    expect(r.screen).toMatch(/Run step second/);
    expect(r.code).toBe(130);
    expect(existsSync(`${site.dir}/first`)).toBe(true);
    expect(existsSync(`${site.dir}/second`)).toBe(false);
  });

  it('without a terminal: a usage error (exit 2), nothing run', async () => {
    const site = localSite();
    site.playbook('one', `name: one\nsummary: one step\nsteps:\n  - id: first\n    action: service.run\n    host: local\n    with: { run: "touch ${site.dir}/first" }\n`);
    const r = await runCli(['run', 'one', '-c', site.inventory, '--state-dir', site.stateDir, '--step', '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--step/);
    expect(existsSync(`${site.dir}/first`)).toBe(false);
  });
});
