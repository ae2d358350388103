import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { events, localSite, runCli } from '../helpers/cli.js';

const SLOW = (dir: string) => `name: slow
summary: a step that takes a while
steps:
  - id: first
    action: service.run
    host: local
    with: { run: "touch ${dir}/first" }
  - id: slow
    action: service.run
    host: local
    with: { run: "touch ${dir}/slow-started; sleep 2; touch ${dir}/slow-finished" }
  - id: last
    action: service.run
    host: local
    with: { run: "touch ${dir}/last" }
`;

function waitForFile(file: string, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (existsSync(file)) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error(`${file} never appeared`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

describe('site lock', () => {
  it('two runs at once: exactly one proceeds, the other exits 4 naming the holder', async () => {
    const site = localSite();
    site.playbook('slow', SLOW(site.dir));
    const args = ['run', 'slow', '-c', site.inventory, '--state-dir', site.stateDir, '--yes', '--json'];
    const first = runCli(args);
    await waitForFile(join(site.dir, 'slow-started'));
    const second = await runCli(args);
    expect(second.code).toBe(4);
    const firstRunId = events((await first).stdout)[0]!.run_id;
    expect(events(second.stdout).at(-1)).toMatchObject({ event: 'run.end', outcome: 'locked', exit_code: 4 });
    expect(second.stderr).toContain(firstRunId);
    expect((await first).code).toBe(0);
    // released at the end: a third run gets the lock
    const third = await runCli(args);
    expect(third.code).toBe(0);
  });

  it('the lock is checked before the no-terminal refusal; dry runs only warn', async () => {
    const site = localSite();
    site.playbook('slow', SLOW(site.dir));
    const lockDir = join(site.stateDir, 'locks', readFileSync(site.inventory, 'utf8').match(/site: (\S+)/)![1]!);
    mkdirSync(lockDir, { recursive: true });
    writeFileSync(join(lockDir, 'owner.json'), JSON.stringify({ run_id: 'someone-else', user: 'ops', control_host: 'bastion', pid: 1, command: 'mirrorctl failover', started_at: '2026-01-01T00:00:00Z' }));
    const refused = await runCli(['run', 'slow', '-c', site.inventory, '--state-dir', site.stateDir, '--json']);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/someone-else/);
    const dry = await runCli(['run', 'slow', '-c', site.inventory, '--state-dir', site.stateDir, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stderr).toMatch(/locked .*someone-else/);
    expect(existsSync(join(site.dir, 'first'))).toBe(false);

    // An owner.json without machine fields cannot be judged from here: kept unless --force.
    const kept = await runCli(['unlock', '-c', site.inventory, '--state-dir', site.stateDir, '-y']);
    expect(kept.code).toBe(4);
    expect(kept.stdout).toMatch(/someone-else/);
    expect(kept.stdout).toMatch(/--force/);
    expect(existsSync(lockDir)).toBe(true);
    const unlock = await runCli(['unlock', '-c', site.inventory, '--state-dir', site.stateDir, '-y', '--force']);
    expect(unlock.code).toBe(0);
    expect(unlock.stdout).toMatch(/someone-else/);
    expect(existsSync(lockDir)).toBe(false);
    const after = await runCli(['run', 'slow', '-c', site.inventory, '--state-dir', site.stateDir, '--yes']);
    expect(after.code).toBe(0);
  });

  it('a host lock (/run/mirrorctl/<site>.lock) held by another run blocks with exit 4', async () => {
    const site = localSite();
    site.playbook('slow', SLOW(site.dir));
    const name = readFileSync(site.inventory, 'utf8').match(/site: (\S+)/)![1]!;
    const hostLock = `/run/mirrorctl/${name}.lock`;
    mkdirSync(hostLock, { recursive: true });
    writeFileSync(join(hostLock, 'owner.json'), JSON.stringify({ run_id: 'host-holder', user: 'ops', control_host: 'elsewhere', pid: 99, command: 'mirrorctl switchover', started_at: '2026-01-01T00:00:00Z' }));
    try {
      const r = await runCli(['run', 'slow', '-c', site.inventory, '--state-dir', site.stateDir, '--yes']);
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/host-holder/);
      expect(existsSync(join(site.dir, 'first'))).toBe(false);
      // the control lock taken before the host lock was given back
      expect(existsSync(join(site.stateDir, 'locks', name))).toBe(false);
    } finally {
      await import('node:fs').then((fs) => fs.rmSync(hostLock, { recursive: true, force: true }));
    }
  });
});

describe('Ctrl-C', () => {
  it('once, to the whole process group as a terminal sends it: the current step finishes and is recorded, later steps are skipped, exit 130', async () => {
    const site = localSite();
    site.playbook('slow', SLOW(site.dir));
    const r = await runCli(['run', 'slow', '-c', site.inventory, '--state-dir', site.stateDir, '--yes', '--json'], {
      processGroup: true,
      onSpawn: (child) => {
        // The step's own command must not die from it: it runs in a process group of its own.
        void waitForFile(join(site.dir, 'slow-started')).then(() => process.kill(-child.pid!, 'SIGINT'));
      },
    });
    expect(r.code).toBe(130);
    expect(existsSync(join(site.dir, 'slow-finished'))).toBe(true);
    expect(existsSync(join(site.dir, 'last'))).toBe(false);
    const evs = events(r.stdout);
    expect(evs.filter((e) => e.event === 'step.end').map((e) => [e.step, e.outcome])).toEqual([
      ['first', 'changed'],
      ['slow', 'changed'],
      ['last', 'skipped'],
    ]);
    expect(evs.at(-1)).toMatchObject({ event: 'run.end', outcome: 'aborted', exit_code: 130 });
    const journal = readFileSync(join(site.stateDir, 'runs', `${evs[0]!.run_id}.ndjson`), 'utf8');
    expect(journal).toMatch(/"step":"slow","outcome":"changed"/);
    const siteName = readFileSync(site.inventory, 'utf8').match(/site: (\S+)/)![1]!;
    expect(existsSync(join(site.stateDir, 'locks', siteName))).toBe(false);
  });

  it('twice: the running command is killed at once, the step recorded as failed, exit 130', async () => {
    const site = localSite();
    site.playbook('slow', SLOW(site.dir).replace('sleep 2', 'sleep 4711'));
    const r = await runCli(['run', 'slow', '-c', site.inventory, '--state-dir', site.stateDir, '--yes', '--json'], {
      onSpawn: (child) => {
        void waitForFile(join(site.dir, 'slow-started')).then(() => {
          child.kill('SIGINT');
          setTimeout(() => child.kill('SIGINT'), 200);
        });
      },
    });
    expect(r.code).toBe(130);
    expect(existsSync(join(site.dir, 'slow-finished'))).toBe(false);
    expect(existsSync(join(site.dir, 'last'))).toBe(false);
    const ends = events(r.stdout).filter((e) => e.event === 'step.end');
    expect(ends.map((e) => [e.step, e.outcome])).toEqual([
      ['first', 'changed'],
      ['slow', 'failed'],
      ['last', 'skipped'],
    ]);
    const still = (await import('node:child_process')).spawnSync('pgrep', ['-f', 'sleep 4711']);
    expect(still.status).toBe(1);
  });

  it('twice, while the step cannot be stopped at once: the locks it holds are released and the process exits', async () => {
    const site = localSite();
    // The step's command leaves a child in a session of its own holding the output pipe,
    // as a host that stops answering mid-step would: killing the command does not end the step.
    const holderPid = join(site.dir, 'holder.pid');
    site.playbook('slow', SLOW(site.dir).replace('sleep 2', () => `setsid sh -c 'echo $$ > ${holderPid}; exec sleep 300' & sleep 4712`));
    const siteName = readFileSync(site.inventory, 'utf8').match(/site: (\S+)/)![1]!;
    const controlLock = join(site.stateDir, 'locks', siteName);
    const hostLock = `/run/mirrorctl/${siteName}.lock`;
    let pid = 0;
    try {
      const r = await runCli(['run', 'slow', '-c', site.inventory, '--state-dir', site.stateDir, '--yes', '--json'], {
        processGroup: true,
        timeoutMs: 60_000,
        onSpawn: (child) => {
          pid = child.pid!;
          void waitForFile(holderPid).then(() => {
            expect(existsSync(controlLock) && existsSync(hostLock)).toBe(true);
            process.kill(-child.pid!, 'SIGINT');
            setTimeout(() => process.kill(-child.pid!, 'SIGINT'), 200);
          });
        },
      });
      expect(r.code).toBe(130);
      expect(existsSync(controlLock)).toBe(false);
      expect(existsSync(hostLock)).toBe(false);
      expect(existsSync(`/proc/${pid}`)).toBe(false);
      // The journal still says how it ended: the stopped step failed, the run aborted.
      const evs = events(readFileSync(join(site.stateDir, 'runs', `${events(r.stdout)[0]!.run_id}.ndjson`), 'utf8'));
      expect(evs.filter((e) => e.event === 'step.end').map((e) => [e.step, e.outcome])).toEqual([
        ['first', 'changed'],
        ['slow', 'failed'],
      ]);
      expect(evs.at(-1)).toMatchObject({ event: 'run.end', outcome: 'aborted', exit_code: 130, changed: ['first'] });
      expect(events(r.stdout).at(-1)).toMatchObject({ event: 'run.end', outcome: 'aborted', exit_code: 130 });
    } finally {
      const holder = existsSync(holderPid) ? Number(readFileSync(holderPid, 'utf8').trim()) : 0;
      if (holder > 0) process.kill(holder, 'SIGKILL');
    }
  });

  it('--from-step checks the steps before it: one not done blocks (exit 3, nothing run); done ones end unchanged', async () => {
    const site = localSite();
    const step = (id: string) => `  - id: ${id}\n    action: service.run\n    host: local\n    with: { run: "touch ${site.dir}/${id}", unless: "test -f ${site.dir}/${id}" }\n`;
    site.playbook('resume', `name: resume\nsummary: three steps that know when they are done\nsteps:\n${step('first')}${step('second')}${step('last')}`);
    const args = ['run', 'resume', '-c', site.inventory, '--state-dir', site.stateDir, '--yes', '--json', '--from-step', 'last'];
    const refused = await runCli(args);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/first .*--from-step last/);
    for (const id of ['first', 'second', 'last']) expect(existsSync(join(site.dir, id))).toBe(false);

    writeFileSync(join(site.dir, 'first'), '');
    writeFileSync(join(site.dir, 'second'), '');
    const resumed = await runCli(args);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(events(resumed.stdout).filter((e) => e.event === 'step.end').map((e) => [e.step, e.outcome])).toEqual([
      ['first', 'unchanged'],
      ['second', 'unchanged'],
      ['last', 'changed'],
    ]);
    const bad = await runCli(['run', 'resume', '-c', site.inventory, '--state-dir', site.stateDir, '--yes', '--from-step', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--from-step nope/);
  });
});

describe('usage', () => {
  it('--help and --version print on stdout and exit 0; a bad option exits 2', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: mirrorctl/);
    const runHelp = await runCli(['run', '--help']);
    expect(runHelp.code).toBe(0);
    expect(runHelp.stdout).toMatch(/--dry-run/);
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const bad = await runCli(['run', 'x', '--no-such-option']);
    expect(bad.code).toBe(2);
  });
});
