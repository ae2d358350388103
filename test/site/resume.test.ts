import { readFileSync, writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { events } from '../helpers/cli.js';
import { ensureLab, type TestLab } from '../helpers/lab.js';
import { health, inRecovery, ipOn, labCli, streamsFrom } from '../helpers/site-state.js';

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
    expect(ends.filter((e) => e.outcome === 'skipped').map((e) => e.step)).toEqual(['move-ip', 'flush-cache', 'sync-files-final', 'rejoin-old', 'verify-http']);
    expect(failed.stderr).toMatch(/mirrorctl switchover --to web2/);
    // the failed step put the previous file back; nothing after it ran
    expect((await lab.hostExec('web2', 'cat /etc/wiki/app.ini')).stdout).toBe(web2Ini);
    expect(await inRecovery(lab, 'web2')).toBe(false);
    expect(await ipOn(lab)).toEqual(['web1']);

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
      'sessions-rw': 'changed',
      'move-ip': 'changed',
      'rejoin-old': 'changed',
      'verify-http': 'unchanged',
    });
    expect(await ipOn(lab)).toEqual(['web2']);
    expect(await streamsFrom(lab, 'web1')).toBe(lab.addresses.web2);
    expect(await health(lab)).toMatchObject({ host: 'web2', db_role: 'primary', session_mode: 'database' });
  });
});
