import { beforeAll, describe, expect, it } from 'vitest';
import { events } from '../helpers/cli.js';
import { ensureLab, type TestLab } from '../helpers/lab.js';
import { arpAnswers, cacheHas, health, inRecovery, ipOn, macOf, psql, streamsFrom, labCli, statusJson as statusJsonOf } from '../helpers/site-state.js';
import { memcacheSet } from '../../src/lab/memcache-client.js';

let lab: TestLab;
const cli = (args: string[]) => labCli(lab, args);
const statusJson = () => statusJsonOf(lab);

/** Logs in through the portable IP and returns the session cookie. */
async function login(url: string): Promise<string> {
  const r = await fetch(`${url}/login?user=alice`, { method: 'POST', signal: AbortSignal.timeout(3000) });
  expect(r.status).toBe(200);
  return /sid=[0-9a-f]+/.exec(r.headers.get('set-cookie') ?? '')![0];
}

async function page(url: string, cookie: string): Promise<number> {
  const r = await fetch(`${url}/page`, { headers: { cookie }, signal: AbortSignal.timeout(3000) });
  await r.text();
  return r.status;
}

beforeAll(async () => {
  lab = await ensureLab();
});

describe('failover with the primary host cut off, then rejoin and switch back', () => {
  it('promotes the mirror, moves the IP, flushes the survivor\'s cache; the old host comes back split, rejoin mends it, switchover returns', async () => {
    await psql(lab, 'web1', "insert into writes (note) values ('before the crash')");
    const web2Cache = `${lab.addresses.web2}:11211`;
    await memcacheSet(web2Cache, 'stale-on-survivor', 'old page');
    // wait until the replica has the row, as streaming replication normally would
    for (let i = 0; i < 50 && (await psql(lab, 'web2', "select count(*) from writes where note = 'before the crash'")) === '0'; i += 1) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await lab.cut('web1');

    const r = await cli(['failover', '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const ends = Object.fromEntries(events(r.stdout).filter((e) => e.event === 'step.end').map((e) => [e.step, e.outcome]));
    expect(ends).toMatchObject({ 'fence-sessions': 'skipped', 'fence-ip': 'skipped', 'stop-old': 'skipped', 'wait-replay': 'skipped', 'sync-files': 'skipped', promote: 'changed', 'move-ip': 'changed', 'flush-cache': 'changed', 'verify-http': 'unchanged' });
    expect(r.stderr).toMatch(/warning: web1 does not answer/);

    expect(await inRecovery(lab, 'web2')).toBe(false);
    expect(await psql(lab, 'web2', "select count(*) from writes where note = 'before the crash'")).toBe('1');
    // the cut host still has the address configured on its dead link; only web2 answers for it
    expect(await ipOn(lab)).toContain('web2');
    expect(await arpAnswers(lab)).toEqual([await macOf(lab, 'web2')]);
    expect(await cacheHas(web2Cache, 'stale-on-survivor')).toBe(false);
    expect(await health(lab)).toMatchObject({ host: 'web2', db_role: 'primary', session_mode: 'database' });
    const during = await statusJson();
    expect(during.served_by).toBe('web2');
    expect(during.hosts.find((h: any) => h.name === 'web1')).toEqual({ name: 'web1', reachable: false, holds_ip: null, db: { role: 'unknown', lag_bytes: null }, sessions: 'unknown' });
    expect(during.memcached.find((m: any) => m.server.startsWith(lab.addresses.web1))).toMatchObject({ up: false, items: null });

    // a write on the new primary makes the old one diverge for sure
    await psql(lab, 'web2', "insert into writes (note) values ('after the failover')");

    // the old primary comes back, still holding the IP and running as a primary
    await lab.restore('web1');
    const split = await statusJson();
    expect(split.warnings.join(' ')).toMatch(/two database primaries/);
    expect(split.warnings.join(' ')).toMatch(/portable IP .* on web1 and web2/);
    const blocked = await cli(['switchover', '--yes']);
    expect(blocked.code).toBe(3);
    expect(blocked.stderr).toMatch(/rejoin/);

    const rejoin = await cli(['rejoin', 'web1', '--yes']);
    expect(rejoin.code, rejoin.stderr).toBe(0);
    expect(await inRecovery(lab, 'web1')).toBe(true);
    expect(await streamsFrom(lab, 'web1')).toBe(lab.addresses.web2);
    expect(await ipOn(lab)).toEqual(['web2']);
    for (let i = 0; i < 50 && (await psql(lab, 'web1', "select count(*) from writes where note = 'after the failover'")) === '0'; i += 1) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await psql(lab, 'web1', "select count(*) from writes where note = 'after the failover'")).toBe('1');
    const mended = await statusJson();
    expect(mended.warnings).toEqual([]);

    const back = await cli(['switchover', '--to', 'web1', '--yes']);
    expect(back.code, back.stderr).toBe(0);
    expect(await inRecovery(lab, 'web1')).toBe(false);
    expect(await streamsFrom(lab, 'web2')).toBe(lab.addresses.web1);
    expect(await ipOn(lab)).toEqual(['web1']);
    expect(await health(lab)).toMatchObject({ host: 'web1', db_role: 'primary' });
    expect((await statusJson()).served_by).toBe('web1');
  });
});

describe('failover --mode read-only', () => {
  it('serves the site from the replica with sessions in read-only mode; switchover --to the old primary returns', async () => {
    lab = await ensureLab();
    const viaIp = `http://${lab.portableIp}`;
    const cookie = await login(viaIp);
    expect(await page(viaIp, cookie)).toBe(200);
    // the same logged-in request on the mirror fails while its sessions are read-write (the 2008 symptom)
    for (let i = 0; i < 50 && (await psql(lab, 'web2', 'select count(*) from sessions')) === '0'; i += 1) await new Promise((r) => setTimeout(r, 100));
    expect(await page(`http://${lab.addresses.web2}`, cookie)).toBe(500);

    const r = await cli(['failover', '--mode', 'read-only', '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const ends = Object.fromEntries(events(r.stdout).filter((e) => e.event === 'step.end').map((e) => [e.step, e.outcome]));
    expect(ends).toMatchObject({ 'fence-sessions': 'changed', 'fence-ip': 'changed', 'stop-old': 'skipped', promote: 'skipped', 'sessions-ro': 'changed', 'sessions-rw': 'skipped', 'move-ip': 'changed' });
    expect(await inRecovery(lab, 'web2')).toBe(true);
    expect(await inRecovery(lab, 'web1')).toBe(false);
    expect(await ipOn(lab)).toEqual(['web2']);
    expect(await health(lab)).toMatchObject({ host: 'web2', db_role: 'replica', session_mode: 'memcache' });
    expect(await page(viaIp, cookie)).toBe(200);
    const status = await statusJson();
    expect(status.served_by).toBe('web2');
    expect(status.warnings.join(' ')).toMatch(/web2, whose database is replica/);

    const back = await cli(['switchover', '--to', 'web1', '--yes', '--json']);
    expect(back.code, back.stderr).toBe(0);
    const backEnds = Object.fromEntries(events(back.stdout).filter((e) => e.event === 'step.end').map((e) => [e.step, e.outcome]));
    expect(backEnds).toMatchObject({ 'stop-old': 'unchanged', 'wait-replay': 'unchanged', promote: 'unchanged', 'rejoin-old': 'unchanged', 'move-ip': 'changed' });
    expect(await ipOn(lab)).toEqual(['web1']);
    expect(await health(lab)).toMatchObject({ host: 'web1', db_role: 'primary', session_mode: 'database' });
    expect(await page(viaIp, cookie)).toBe(200);
    expect((await statusJson()).warnings).toEqual([]);
  });
});

describe('ignore_errors on fence-sessions (spec 7)', () => {
  it('a reachable old primary whose sessions file cannot be written: a warning, and the failover completes', async () => {
    lab = await ensureLab();
    // web1's /etc/wiki becomes a read-only mount (a broken disk): even root cannot write the sessions file.
    await lab.hostExec('web1', 'mount --bind /etc/wiki /etc/wiki && mount -o remount,bind,ro /etc/wiki');
    try {
      const r = await cli(['failover', '--yes', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const ends = Object.fromEntries(events(r.stdout).filter((e) => e.event === 'step.end').map((e) => [e.step, e.outcome]));
      expect(['failed', 'blocked']).toContain(ends['fence-sessions']);
      expect(ends).toMatchObject({ 'fence-ip': 'changed', 'stop-old': 'changed', promote: 'changed', 'move-ip': 'changed' });
      expect(r.stderr).toMatch(/fence-sessions .*ignore_errors/);
      expect(events(r.stdout).at(-1)).toMatchObject({ event: 'run.end', outcome: 'succeeded', exit_code: 0 });
      expect(await ipOn(lab)).toEqual(['web2']);
      expect(await inRecovery(lab, 'web2')).toBe(false);
      expect(await health(lab)).toMatchObject({ host: 'web2', db_role: 'primary' });
    } finally {
      await lab.hostExec('web1', 'umount /etc/wiki');
    }
  });
});
