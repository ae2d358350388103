import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureLab, type TestLab } from '../helpers/lab.js';
import { ipOn, labCli, servers, statusJson } from '../helpers/site-state.js';
import { memcacheSet } from '../../src/lab/memcache-client.js';

let lab: TestLab;

beforeAll(async () => {
  lab = await ensureLab();
});

afterAll(async () => {
  await lab.hostExec('web2', `ip addr del ${lab.portableCidr} dev ${lab.iface.web2} 2>/dev/null; true`);
  await lab.hostExec('web1', `ip addr add ${lab.portableCidr} dev ${lab.iface.web1} 2>/dev/null; true`);
});

describe('status --json matches the real state', () => {
  it('as the lab starts: web1 serves, web2 streams, caches counted', async () => {
    await memcacheSet(servers(lab)[1]!, 'status-probe', 'x');
    const s = await statusJson(lab);
    expect(s).toMatchObject({ site: 'wiki', served_by: 'web1', warnings: [] });
    const [web1, web2] = s.hosts;
    expect(web1).toEqual({ name: 'web1', reachable: true, holds_ip: true, db: { role: 'primary', lag_bytes: null }, sessions: 'read-write' });
    expect(web2).toMatchObject({ name: 'web2', reachable: true, holds_ip: false, db: { role: 'replica' }, sessions: 'read-write' });
    expect(typeof web2.db.lag_bytes).toBe('number');
    expect(s.memcached).toEqual([
      { server: servers(lab)[0], up: true, items: expect.any(Number) },
      { server: servers(lab)[1], up: true, items: expect.any(Number) },
    ]);
    expect(s.memcached[1].items).toBeGreaterThanOrEqual(1);
  });

  it('follows the IP moved by hand, whatever its prefix, and warns when it is on two hosts or on a replica', async () => {
    await lab.hostExec('web1', `ip addr del ${lab.portableCidr} dev ${lab.iface.web1}`);
    // Written by hand with another prefix length: still the portable IP (spec 4).
    await lab.hostExec('web2', `ip addr add ${lab.portableIp}/32 dev ${lab.iface.web2}`);
    expect(await ipOn(lab)).toEqual(['web2']);
    const moved = await statusJson(lab);
    expect(moved.served_by).toBe('web2');
    expect(moved.hosts.map((h: any) => h.holds_ip)).toEqual([false, true]);
    expect(moved.warnings).toEqual([expect.stringMatching(/portable IP is on web2, whose database is replica/)]);

    await lab.hostExec('web1', `ip addr add ${lab.portableCidr} dev ${lab.iface.web1}`);
    const both = await statusJson(lab);
    expect(both.served_by).toBeNull();
    expect(both.hosts.map((h: any) => h.holds_ip)).toEqual([true, true]);
    expect(both.warnings.join('\n')).toMatch(/on web1 and web2/);

    await lab.hostExec('web2', `ip addr del ${lab.portableIp}/32 dev ${lab.iface.web2}`);
    const back = await statusJson(lab);
    expect(back.served_by).toBe('web1');
    expect(back.warnings).toEqual([]);
  });

  it('a host that does not answer: the exact values of the spec', async () => {
    await lab.cut('web2');
    const s = await statusJson(lab);
    expect(s.hosts[1]).toEqual({ name: 'web2', reachable: false, holds_ip: null, db: { role: 'unknown', lag_bytes: null }, sessions: 'unknown' });
    expect(s.memcached[1]).toEqual({ server: servers(lab)[1], up: false, items: null });
    expect(s.served_by).toBe('web1');
    await lab.restore('web2');
  });

  it('the holder does not answer: nobody that answers serves the site, and the silent host may hold the IP', async () => {
    await lab.cut('web1');
    try {
      const human = await labCli(lab, ['status']);
      expect(human.code, human.stderr).toBe(0);
      expect(human.stdout.split('\n')[0]).toBe('site wiki: served by no host that answers (web1 does not answer and may hold the portable IP)');
      expect((await statusJson(lab)).served_by).toBeNull();
    } finally {
      await lab.restore('web1');
    }
  });
});
