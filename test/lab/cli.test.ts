// `mirrorctl lab ...` as operators run it: the compiled CLI, a real process.
import { describe, expect, it } from 'vitest';
import { run } from '../../src/lab/exec.js';
import { BIN, runCli } from '../helpers/cli.js';
import { ensureLab } from '../helpers/lab.js';

describe('mirrorctl lab (CLI)', () => {
  it('lab up on a running lab prints only JSON on stdout with --json, and status tells what runs', async () => {
    const lab = await ensureLab();
    const up = await runCli(['lab', 'up', '--dir', lab.dir, '--json']);
    expect(up.code).toBe(0);
    expect(JSON.parse(up.stdout)).toMatchObject({ dir: lab.dir, inventory: lab.inventory, portable_ip: lab.portableCidr });
    const status = await runCli(['lab', 'status', '--dir', lab.dir, '--json']);
    expect(status.code).toBe(0);
    const parsed = JSON.parse(status.stdout) as { up: boolean; hosts: Array<{ name: string; postgres: string; holds_portable_ip: boolean }> };
    expect(parsed.up).toBe(true);
    expect(parsed.hosts.map((h) => [h.name, h.postgres, h.holds_portable_ip])).toEqual([
      ['web1', 'primary', true],
      ['web2', 'replica', false],
    ]);
    const human = await runCli(['lab', 'status', '--dir', lab.dir]);
    expect(human.stdout).toContain('holds the portable IP');
  });

  it('refuses without root in one message with what to do, exit 2, changing nothing', async () => {
    const dir = '/tmp/mirrorctl-lab-never-built';
    const result = await run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, 'lab', 'up', '--dir', dir]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('root');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect((await run('ls', [dir])).exitCode).not.toBe(0);
  });

  it('lab down on a directory that is not a lab refuses to touch it', async () => {
    const result = await runCli(['lab', 'down', '--dir', '/etc']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('not a mirrorctl lab directory');
  });
});
