import { readFileSync, writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { events, runCli } from '../helpers/cli.js';
import { ensureLab, type TestLab } from '../helpers/lab.js';
import { health, inRecovery, ipOn, labCli, snapshot, streamsFrom } from '../helpers/site-state.js';

let lab: TestLab;

beforeAll(async () => {
  lab = await ensureLab();
});

describe('a failure in the middle of a switchover', () => {
  it('exits 1 with the resume command; after the fix, that command completes and reports the earlier steps done', async () => {
    // web2's app will refuse to reload while /srv/fail-reload exists on web2
    const inventory = `${lab.dir}/fragile-reload.yaml`;
    writeFileSync(inventory, readFileSync(lab.inventory, 'utf8').replace(/  reload: .*/, `  reload: test ! -e /srv/fail-reload && kill -HUP "$(cat /run/wiki-app.pid)"`));
    await lab.hostExec('web2', "touch /srv/fail-reload && sed -i 's/^session.backend = database/session.backend = memcache/' /etc/wiki/app.ini");
    const web2Ini = (await lab.hostExec('web2', 'cat /etc/wiki/app.ini')).stdout;
    const cli = (args: string[]) => labCli(lab, args, inventory);

    const failed = await cli(['switchover', '--yes', '--json']);
    expect(failed.code).toBe(1);
    const ends = events(failed.stdout).filter((e) => e.event === 'step.end');
    expect(ends.find((e) => e.step === 'sessions-rw')).toMatchObject({ outcome: 'failed' });
    expect(ends.find((e) => e.step === 'sessions-rw')!.error).toMatch(/reload/);
    expect(ends.filter((e) => e.outcome === 'skipped').map((e) => e.step)).toEqual(['flush-cache', 'sync-files-final', 'rejoin-old', 'verify-http']);
    expect(failed.stderr).toMatch(/mirrorctl switchover --to web2/);
    // the failed step put the previous file back; nothing after it ran. The site is already
    // served by web2 (move-ip comes before sessions-rw), its sessions still read-only: safe.
    expect((await lab.hostExec('web2', 'cat /etc/wiki/app.ini')).stdout).toBe(web2Ini);
    expect(await inRecovery(lab, 'web2')).toBe(false);
    expect(await ipOn(lab)).toEqual(['web2']);

    await lab.hostExec('web2', 'rm -f /srv/fail-reload');
    const resumed = await cli(['switchover', '--to', 'web2', '--yes', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const outcomes = Object.fromEntries(events(resumed.stdout).filter((e) => e.event === 'step.end').map((e) => [e.step, e.outcome]));
    expect(outcomes).toMatchObject({
      'sync-files': 'unchanged',
      'fence-sessions': 'unchanged',
      'stop-old': 'unchanged',
      'wait-replay': 'unchanged',
      promote: 'unchanged',
      'move-ip': 'unchanged',
      'sessions-rw': 'changed',
      'rejoin-old': 'changed',
      'verify-http': 'unchanged',
    });
    expect(await ipOn(lab)).toEqual(['web2']);
    expect(await streamsFrom(lab, 'web1')).toBe(lab.addresses.web2);
    expect(await health(lab)).toMatchObject({ host: 'web2', db_role: 'primary', session_mode: 'database' });
  });
});

describe('--from-step resumes, it never skips work (spec 4)', () => {
  it('on a healthy site, --from-step promote blocks naming the steps before it that are not done, and changes nothing', async () => {
    lab = await ensureLab();
    const before = await snapshot(lab);
    const r = await labCli(lab, ['switchover', '--from-step', 'promote', '--yes', '--json']);
    expect(r.code, r.stderr).toBe(3);
    const plan = events(r.stdout).filter((e) => e.event === 'step.check' && e.phase === 'plan');
    const stopOld = plan.find((e) => e.step === 'stop-old')!;
    expect(stopOld.status).toBe('blocked');
    expect(stopOld.summary).toMatch(/comes before --from-step promote but is not done/);
    expect(r.stderr).toMatch(/stop-old/);
    expect(await snapshot(lab)).toEqual(before);
    expect(await inRecovery(lab, 'web2')).toBe(true);
  });

  it('a switchover stopped after stop-old, resumed with --from-step promote: stop-old and wait-replay are checked done, the run completes', async () => {
    lab = await ensureLab();
    // Ctrl-C as soon as stop-old has ended: the step under way finishes, the rest are skipped.
    const stopped = await runCli(['switchover', '--yes', '--json', '-c', lab.inventory, '--state-dir', `${lab.dir}/state`], {
      processGroup: true,
      onSpawn: (child) => {
        let buffered = '';
        let signalled = false;
        child.stdout!.on('data', (chunk: Buffer) => {
          buffered += chunk.toString();
          const lines = buffered.split('\n');
          buffered = lines.pop()!;
          const stopOldEnded = lines.some((line) => line.includes('"event":"step.end"') && line.includes('"step":"stop-old"'));
          if (stopOldEnded && !signalled) {
            signalled = true;
            process.kill(-child.pid!, 'SIGINT');
          }
        });
      },
    });
    expect(stopped.code, stopped.stderr).toBe(130);
    const ends = Object.fromEntries(events(stopped.stdout).filter((e) => e.event === 'step.end').map((e) => [e.step, e.outcome]));
    expect(ends['stop-old']).toBe('changed');
    expect(ends['verify-http']).toBe('skipped');
    expect(await inRecovery(lab, 'web1').catch(() => 'down')).toBe('down');

    const resumed = await labCli(lab, ['switchover', '--to', 'web2', '--from-step', 'promote', '--yes', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const evs = events(resumed.stdout);
    const runChecks = Object.fromEntries(evs.filter((e) => e.event === 'step.check' && e.phase === 'run').map((e) => [e.step, e.status]));
    expect(runChecks['stop-old']).toBe('done');
    expect(runChecks['wait-replay']).toBe('done');
    const outcomes = Object.fromEntries(evs.filter((e) => e.event === 'step.end').map((e) => [e.step, e.outcome]));
    expect(outcomes).toMatchObject({ 'fence-sessions': 'unchanged', 'stop-old': 'unchanged', 'wait-replay': 'unchanged', 'rejoin-old': 'changed' });
    expect(['changed', 'unchanged']).toContain(outcomes.promote);
    expect(await ipOn(lab)).toEqual(['web2']);
    expect(await streamsFrom(lab, 'web1')).toBe(lab.addresses.web2);
    expect(await health(lab)).toMatchObject({ host: 'web2', db_role: 'primary' });
  });
});
