// Shell completion in a real bash: the script `mirrorctl completion bash` prints is
// sourced, registered with `complete`, and asked the way bash asks at <TAB>.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli } from '../helpers/cli.js';

let dir: string;
let path: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mirrorctl-completion-'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  symlinkSync(BIN, join(bin, 'mirrorctl'));
  path = `${bin}:${dirname(process.execPath)}:${process.env.PATH}`;
  writeFileSync(join(dir, 'mirrorctl.yaml'), 'site: s\nhosts:\n  alpha: { address: 192.0.2.1 }\n  beta: { address: 192.0.2.2 }\n');
  mkdirSync(join(dir, 'playbooks'));
  writeFileSync(join(dir, 'playbooks', 'drain-queue.yaml'), 'name: drain-queue\nsummary: x\nsteps: []\n');
  mkdirSync(join(dir, 'reports'));
});

/** This process's environment without $MIRRORCTL_CONFIG (completion must find ./mirrorctl.yaml). */
function withoutConfig(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.MIRRORCTL_CONFIG;
  return env;
}

/** What bash offers for the command line `typed` (the cursor at its end), through the completion function. */
function tab(typed: string, cwd = dir): string[] {
  const words = typed.split(' ');
  const script = [
    'source <(mirrorctl completion bash) || exit 9',
    `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})`,
    `COMP_CWORD=${words.length - 1}`,
    `COMP_LINE='${typed}'`,
    `COMP_POINT=${typed.length}`,
    // The function bash registered for mirrorctl, as bash calls it at <TAB>.
    'fn=$(complete -p mirrorctl | sed -E "s/.*-F ([^ ]+) .*/\\1/")',
    '"$fn" mirrorctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"',
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  const r = spawnSync('bash', ['-c', script], { cwd, encoding: 'utf8', env: { ...withoutConfig(), PATH: path } });
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  return r.stdout.split('\n').filter(Boolean).sort();
}

describe('mirrorctl completion bash, in a real bash', () => {
  it('registers a completion function for mirrorctl', () => {
    const r = spawnSync('bash', ['-c', 'source <(mirrorctl completion bash) && complete -p mirrorctl'], { encoding: 'utf8', env: { ...process.env, PATH: path } });
    expect(r.stdout).toMatch(/^complete -F _mirrorctl mirrorctl$/m);
  });

  it('commands, and the subcommands of lab', () => {
    expect(tab('mirrorctl ')).toEqual(['completion', 'failover', 'init', 'lab', 'playbooks', 'rejoin', 'run', 'runs', 'status', 'switchover', 'unlock', 'validate']);
    expect(tab('mirrorctl s')).toEqual(['status', 'switchover']);
    expect(tab('mirrorctl lab ')).toEqual(['demo', 'down', 'status', 'up']);
    expect(tab('mirrorctl completion ')).toEqual(['bash', 'fish', 'zsh']);
  });

  it("a command's options, and an option's choices", () => {
    expect(tab('mirrorctl switchover --')).toEqual(expect.arrayContaining(['--to', '--dry-run', '--config', '--from-step', '--junit', '--yes', '--json']));
    expect(tab('mirrorctl switchover --d')).toEqual(['--dry-run']);
    expect(tab('mirrorctl init --ho')).toEqual(['--host']);
    expect(tab('mirrorctl failover --mode ')).toEqual(['promote', 'read-only']);
  });

  it('inventory host names for --to and rejoin (from ./mirrorctl.yaml, or the -c file on the line)', () => {
    expect(tab('mirrorctl switchover --to ')).toEqual(['alpha', 'beta']);
    expect(tab('mirrorctl failover --dry-run --to a')).toEqual(['alpha']);
    expect(tab('mirrorctl rejoin ')).toEqual(['alpha', 'beta']);
    const elsewhere = mkdtempSync(join(tmpdir(), 'mirrorctl-completion-cwd-'));
    expect(tab('mirrorctl rejoin ', elsewhere)).toEqual([]);
    expect(tab(`mirrorctl rejoin -c ${dir}/mirrorctl.yaml `, elsewhere)).toEqual(['alpha', 'beta']);
  });

  it("playbook names: the bundled ones and the inventory's own", () => {
    expect(tab('mirrorctl run ')).toEqual(['drain-queue', 'failover', 'maintenance', 'rejoin', 'switchover']);
    expect(tab('mirrorctl validate sw')).toEqual(['switchover']);
  });

  it('file and directory names where an option takes a file or a directory', () => {
    expect(tab('mirrorctl status -c mirror')).toEqual(['mirrorctl.yaml']);
    expect(tab('mirrorctl switchover --state-dir rep')).toEqual(['reports']);
  });
});

describe('mirrorctl completion zsh|fish', () => {
  it('prints a script for each that asks mirrorctl __complete; an unknown shell is a usage error', async () => {
    for (const shell of ['zsh', 'fish']) {
      const r = await runCli(['completion', shell]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('mirrorctl __complete --');
    }
    expect((await runCli(['completion', 'tcsh'])).code).toBe(2);
  });
});
