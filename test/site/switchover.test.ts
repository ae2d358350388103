import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { events } from '../helpers/cli.js';
import { ensureLab, type TestLab } from '../helpers/lab.js';
import { arpAnswers, cacheHas, health, inRecovery, ipOn, macOf, psql, servers, setCacheKeys, snapshot, startWriter, streamsFrom, uploads, labCli, statusJson as statusJsonOf } from '../helpers/site-state.js';

let lab: TestLab;
const cli = (args: string[]) => labCli(lab, args);
const statusJson = () => statusJsonOf(lab);

beforeAll(async () => {
  lab = await ensureLab();
});

describe('switchover on the lab', () => {
  it('--dry-run lists every step with its finding and changes nothing', async () => {
    await setCacheKeys(lab, 'mirrorctl-test-probe');
    const before = await snapshot(lab);
    const r = await cli(['switchover', '--dry-run', '--json']);
    expect(r.code).toBe(0);
    const checks = events(r.stdout).filter((e) => e.event === 'step.check');
    expect(checks.map((e) => e.step)).toEqual([
      'preflight-1', 'preflight-2', 'checkpoint-old', 'sync-files', 'fence-sessions', 'stop-old', 'fence-ip', 'wait-replay',
      'promote', 'move-ip', 'sessions-rw', 'flush-cache', 'sync-files-final', 'rejoin-old', 'verify-http',
    ]);
    for (const c of checks) {
      expect(c.phase).toBe('plan');
      expect(['ready', 'done']).toContain(c.status);
      expect(c.summary.length).toBeGreaterThan(0);
    }
    expect(checks.find((c) => c.step === 'sync-files')!.summary).toMatch(/3 files/);
    expect(await snapshot(lab)).toEqual(before);
    // The plan's rsync dry runs shared one SSH connection between the hosts: its master is
    // closed, and its directory removed, before the dry run returns (else it would linger 5 s).
    const masters = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => /^ssh: \/tmp\/tmp\.[^/]+\/m /.test(l));
    expect(masters).toEqual([]);
    const sockets = execFileSync('sh', ['-c', "find /tmp -maxdepth 2 -path '/tmp/tmp.*/m' 2>/dev/null || true"], { encoding: 'utf8' }).trim();
    expect(sockets).toBe('');
  });

  it('--yes under a continuous writer: zero data loss, old primary streams from new, IP/ARP/cache/files/HTTP on the new host; a second run restores the layout', async () => {
    await setCacheKeys(lab, 'stale-before-switchover');
    const web1Files = await uploads(lab, 'web1');
    const writer = startWriter(lab);
    await new Promise((r) => setTimeout(r, 500));
    const r = await cli(['switchover', '--yes', '--json']);
    await new Promise((r) => setTimeout(r, 500));
    const { acked } = await writer.stop();
    expect(r.code, r.stderr).toBe(0);
    expect(events(r.stdout).at(-1)).toMatchObject({ event: 'run.end', outcome: 'succeeded' });

    // every acknowledged write is on the new primary
    expect(acked.length).toBeGreaterThan(10);
    const onWeb2 = new Set((await psql(lab, 'web2', `select id from writes where id in (${acked.join(',')})`)).split('\n').map(Number));
    expect(acked.filter((id) => !onWeb2.has(id))).toEqual([]);
    // roles and replication
    expect(await inRecovery(lab, 'web2')).toBe(false);
    expect(await inRecovery(lab, 'web1')).toBe(true);
    expect(await streamsFrom(lab, 'web1')).toBe(lab.addresses.web2);
    // the portable IP: on web2 only, and ARP answers with web2's MAC
    expect(await ipOn(lab)).toEqual(['web2']);
    expect(await arpAnswers(lab)).toEqual([await macOf(lab, 'web2')]);
    // memcached flushed
    for (const server of servers(lab)) expect(await cacheHas(server, 'stale-before-switchover')).toBe(false);
    // every upload of the old primary is on the new one
    const web2Files = await uploads(lab, 'web2');
    for (const line of web1Files.trim().split('\n')) expect(web2Files).toContain(line);
    // HTTP through the portable IP answers from the new host, read-write
    expect(await health(lab)).toMatchObject({ host: 'web2', db_role: 'primary', session_mode: 'database' });

    const status = await statusJson();
    expect(status.served_by).toBe('web2');
    expect(status.warnings).toEqual([]);
    expect(status.hosts.find((h: any) => h.name === 'web2').db.role).toBe('primary');
    expect(status.hosts.find((h: any) => h.name === 'web1').db.role).toBe('replica');
    expect(status.hosts.find((h: any) => h.name === 'web1').sessions).toBe('read-only');

    // running it again switches back
    const back = await cli(['switchover', '--yes']);
    expect(back.code, back.stderr).toBe(0);
    expect(await inRecovery(lab, 'web1')).toBe(false);
    expect(await streamsFrom(lab, 'web2')).toBe(lab.addresses.web1);
    expect(await ipOn(lab)).toEqual(['web1']);
    expect(await health(lab)).toMatchObject({ host: 'web1', db_role: 'primary', session_mode: 'database' });
    const after = await statusJson();
    expect(after.served_by).toBe('web1');
    expect(after.warnings).toEqual([]);
  });

  it('one SSH connection per host for a whole run of many steps', async () => {
    // Only connections from the control machine (the bridge address) count:
    // rsync's host-to-host connections are the hosts' own business.
    const fromControl = async (host: 'web1' | 'web2') => {
      const log = await lab.hostExec(host, 'cat /srv/lab/log/sshd.log');
      return log.stdout.split('\n').filter((l) => l.includes('Accepted publickey') && l.includes(` from ${lab.addresses.bridge} `)).length;
    };
    const before = { web1: await fromControl('web1'), web2: await fromControl('web2') };
    const r = await cli(['switchover', '--dry-run']);
    expect(r.code).toBe(0);
    expect(await fromControl('web1')).toBe(before.web1 + 1);
    expect(await fromControl('web2')).toBe(before.web2 + 1);
  });
});
