import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, events, localSite, runCli, type LocalSite } from '../helpers/cli.js';

// A lock that cannot be taken for a reason other than another run holding it is not
// "locked" (exit 4): the run blocks (exit 3) naming where and why. Tests run as root,
// so permissions do not stop them: a file in place of a directory, or a read-only /run
// in a mount namespace of the run's own, really fails.

const ONE_STEP = (dir: string) => `name: one
summary: one step
steps:
  - id: first
    action: service.run
    host: local
    with: { run: "touch ${dir}/first" }
`;

function siteName(site: LocalSite): string {
  return readFileSync(site.inventory, 'utf8').match(/site: (\S+)/)![1]!;
}

function expectBlocked(r: { code: number | null; stdout: string; stderr: string }, cause: RegExp): void {
  expect(r.code).toBe(3);
  expect(events(r.stdout).at(-1)).toMatchObject({ event: 'run.end', outcome: 'blocked', exit_code: 3 });
  const said = r.stderr.split('\n').filter((l) => l.startsWith('blocked:'));
  expect(said).toHaveLength(1);
  expect(said[0]).toMatch(cause);
}

describe('a site lock that cannot be taken blocks the run (exit 3)', () => {
  it('on the control machine: a file where the state dir\'s locks directory should be', async () => {
    const site = localSite();
    site.playbook('one', ONE_STEP(site.dir));
    const run = await runCli(['run', 'one', '-c', site.inventory, '--state-dir', site.stateDir, '--yes', '--json']);
    expect(run.code).toBe(0);
    rmSync(join(site.stateDir, 'locks'), { recursive: true, force: true });
    rmSync(join(site.dir, 'first'));
    writeFileSync(join(site.stateDir, 'locks'), 'not a directory');
    const r = await runCli(['run', 'one', '-c', site.inventory, '--state-dir', site.stateDir, '--yes', '--json']);
    expectBlocked(r, /could not take the site lock on the control machine: .*locks: exists and is not a directory/);
    expect(existsSync(join(site.dir, 'first'))).toBe(false);
  });

  it('on a host: a file where its lock directory should be; the control machine lock is given back', async () => {
    const site = localSite();
    site.playbook('one', ONE_STEP(site.dir));
    const hostLock = `/run/mirrorctl/${siteName(site)}.lock`;
    writeFileSync(hostLock, 'not a directory');
    try {
      const r = await runCli(['run', 'one', '-c', site.inventory, '--state-dir', site.stateDir, '--yes', '--json']);
      expectBlocked(r, new RegExp(`could not take the site lock on local: ${hostLock} exists and is not a directory`));
      expect(existsSync(join(site.dir, 'first'))).toBe(false);
      expect(existsSync(join(site.stateDir, 'locks', siteName(site)))).toBe(false);
    } finally {
      rmSync(hostLock, { force: true });
    }
  });

  it('on a host: a read-only /run', () => {
    const site = localSite();
    site.playbook('one', ONE_STEP(site.dir));
    // The run gets a mount namespace of its own with an empty read-only /run; nothing outside it changes.
    const r = spawnSync(
      'unshare',
      ['-m', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs -o ro,size=64k tmpfs /run && exec "$@"', 'sh', process.execPath, BIN, 'run', 'one', '-c', site.inventory, '--state-dir', site.stateDir, '--yes', '--json'],
      { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } },
    );
    expectBlocked({ code: r.status, stdout: r.stdout, stderr: r.stderr }, /could not take the site lock on local: mkdir: cannot create directory '\/run\/mirrorctl': Read-only file system/);
    expect(existsSync(join(site.dir, 'first'))).toBe(false);
    expect(existsSync(join(site.stateDir, 'locks', siteName(site)))).toBe(false);
  });
});
