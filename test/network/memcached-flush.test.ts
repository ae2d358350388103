// memcached.flush against the lab's memcached servers, asked directly over TCP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memcacheGet, memcacheSet } from '../../src/lab/memcache-client.js';
import { networkSite, type NetworkSite } from './site.js';

let site: NetworkSite;
let flush: string;
let servers: { web1: string; web2: string };
/** An extra memcached on web2 started with -F (flush_all refused). */
let noFlush: string;
const NO_FLUSH_PID = '/run/mirrorctl-test-memcached-F.pid';

beforeAll(async () => {
  site = await networkSite();
  const { lab } = site;
  servers = { web1: `${lab.addresses.web1}:11211`, web2: `${lab.addresses.web2}:11211` };
  flush = site.playbook('flush', '  - id: flush-cache\n    action: memcached.flush\n    timeout: 10s\n');
  noFlush = `${lab.addresses.web2}:11311`;
  await lab.hostExec('web2', `memcached -u memcache -l ${lab.addresses.web2} -p 11311 -U 0 -m 8 -F -d -P ${NO_FLUSH_PID}`);
  for (let i = 0; i < 50 && !(await memcacheSet(noFlush, 'probe', '1').then(() => true, () => false)); i += 1) await new Promise((r) => setTimeout(r, 100));
});

afterAll(async () => {
  await site.lab.hostExec('web2', `kill "$(cat ${NO_FLUSH_PID})"; rm -f ${NO_FLUSH_PID}`);
});

/** The lab inventory with these memcached servers. */
function inventoryWith(name: string, list: string[], extraHosts = ''): string {
  return site.inventoryCopy(name, (text) =>
    text.replace(/^(\s+servers:) \[.*\]$/m, `$1 [${list.map((s) => `"${s}"`).join(', ')}]`).replace(/^hosts:\n/m, `hosts:\n${extraHosts}`),
  );
}

describe('memcached.flush', () => {
  it('empties both servers; --json stdout stays pure NDJSON', async () => {
    await memcacheSet(servers.web1, 'page:home', 'cached on web1');
    await memcacheSet(servers.web2, 'page:home', 'cached on web2');
    const result = await site.run(flush);
    expect(result.code, result.stderr).toBe(0);
    expect(result.events.every((e) => typeof e.event === 'string' && 'run_id' in e && 'ts' in e)).toBe(true);
    expect(result.checks('flush-cache').map((c) => c.status)).toEqual(['ready', 'ready']);
    expect(result.end('flush-cache')).toMatchObject({ outcome: 'changed' });
    expect(await memcacheGet(servers.web1, 'page:home')).toBeNull();
    expect(await memcacheGet(servers.web2, 'page:home')).toBeNull();
  });

  it('is blocked by a server started with -F, touching no server', async () => {
    await memcacheSet(noFlush, 'page:kept', 'still here');
    await memcacheSet(servers.web1, 'page:kept', 'still here');
    const result = await site.run(flush, inventoryWith('no-flush', [servers.web1, noFlush]));
    expect(result.code, result.stderr).toBe(3);
    expect(result.checks('flush-cache')[0]).toMatchObject({ status: 'blocked' });
    expect(result.checks('flush-cache')[0]!.summary).toContain(`memcached ${noFlush} refuses flushes`);
    expect(await memcacheGet(noFlush, 'page:kept')).toBe('still here');
    expect(await memcacheGet(servers.web1, 'page:kept')).toBe('still here');
  });

  it('skips, with a warning, a server whose host does not answer; flushes the others', async () => {
    const ghost = `${site.lab.subnet}.77`;
    await memcacheSet(servers.web1, 'page:gone', 'x');
    const result = await site.run(flush, inventoryWith('ghost', [servers.web1, `${ghost}:11211`], `  ghost:\n    address: ${ghost}\n`));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`memcached ${ghost}:11211 skipped: ghost does not answer`);
    expect(await memcacheGet(servers.web1, 'page:gone')).toBeNull();
  });

  it('is blocked by a server that does not answer although its host does', async () => {
    const silent = `${site.lab.addresses.web2}:11999`;
    await memcacheSet(servers.web1, 'page:kept2', 'x');
    const result = await site.run(flush, inventoryWith('silent', [servers.web1, silent]));
    expect(result.code, result.stderr).toBe(3);
    expect(result.checks('flush-cache')[0]!.summary).toContain(`memcached ${silent} does not answer although web2 does`);
    expect(await memcacheGet(servers.web1, 'page:kept2')).toBe('x');
  });
});
