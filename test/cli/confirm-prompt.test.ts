import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, localSite } from '../helpers/cli.js';

// A real terminal for the confirmation prompt: util-linux `script` gives the run a pty,
// and the operator's keystrokes arrive on it after the plan is shown.
function onTerminal(args: string[], keys: string): { code: number | null; screen: string } {
  const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const typed = `sleep 3; printf '${keys}'; sleep 2`;
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
