// The lab for real: namespaces, bridge, sshd, PostgreSQL primary + streaming replica,
// memcached and the web app. Built in its own directory (so that it runs beside the
// shared test lab, which stays up for the other test files), taken down, built again.
import { readFile, readdir, readlink, stat } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDownAt } from '../../src/lab/down.js';
import { labStatusAt } from '../../src/lab/status.js';
import { labUpAt } from '../../src/lab/up.js';
import { run } from '../../src/lab/exec.js';
import { memcacheGet, memcacheSet } from '../../src/lab/memcache-client.js';
import { ROOT_ONLY_UPLOADS, UPLOADS_MISSING_ON_WEB2 } from '../../src/lab/uploads.js';
import { labNames, PG_PORT } from '../../src/lab/paths.js';
import { describeLab, ensureLab, type TestLab } from '../helpers/lab.js';

const DIR = process.env.MIRRORCTL_TEST_LAB_SELF ?? '/tmp/mirrorctl-lab-selftest';
const quiet = () => undefined;
// As the postgres OS user on the socket (peer): the one login without a password.
const PSQL = `setpriv --reuid=postgres --regid=postgres --init-groups -- psql -X -At -h /run/postgresql -p ${PG_PORT} -U postgres -d wiki`;

let lab: TestLab;
let shared: TestLab;

async function http(url: string, init: RequestInit = {}): Promise<{ status: number; body: Record<string, unknown>; cookie: string | null }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
  const text = await response.text();
  const cookie = /sid=([0-9a-f]+)/.exec(response.headers.get('set-cookie') ?? '')?.[1] ?? null;
  return { status: response.status, body: JSON.parse(text) as Record<string, unknown>, cookie };
}

/** Until `probe` returns true (bounded; no timing assertion, only a bound on waiting). */
async function eventually(probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}

async function streaming(l: TestLab, primary: 'web1' | 'web2', replica: 'web1' | 'web2'): Promise<boolean> {
  const result = await l.hostExec(primary, `${PSQL} -c "SELECT state FROM pg_stat_replication WHERE client_addr = '${l.addresses[replica]}'"`);
  return result.stdout.trim() === 'streaming';
}

/** Live (non-zombie) processes whose network or mount namespace is one of `inodes`, or whose command line names `dir`. */
async function processesOf(inodes: Set<string>, dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const status = await readFile(`/proc/${entry}/status`, 'utf8').catch(() => '');
    if (!status || /^State:\s+Z/m.test(status)) continue;
    const net = await readlink(`/proc/${entry}/ns/net`).catch(() => '');
    const mnt = await readlink(`/proc/${entry}/ns/mnt`).catch(() => '');
    const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ');
    if (inodes.has(net) || inodes.has(mnt) || cmdline.includes(dir)) found.push(`${entry} ${cmdline}`);
  }
  return found;
}

describe('mirrorctl lab', () => {
  beforeAll(async () => {
    shared = await ensureLab();
    await labDownAt(DIR, quiet);
  });

  afterAll(async () => {
    await labDownAt(DIR, quiet);
  });

  it('builds a complete site from nothing, beside another lab', async () => {
    await labUpAt(DIR, quiet);
    lab = await describeLab(DIR);
    expect(lab.subnet).not.toBe(shared.subnet);
    expect(lab.bridge).not.toBe(shared.bridge);
    expect(lab.netns.web1).not.toBe(shared.netns.web1);
    for (const name of [lab.bridge, ...Object.values(lab.veth)]) expect(name.length).toBeLessThanOrEqual(15);
    const { loadInventory } = await import('../../src/inventory/load.js');
    const inventory = await loadInventory(lab.inventory);
    expect(inventory.site).toBe('wiki');
    expect(inventory.doc.portable_ip?.address).toBe(lab.portableCidr);
    expect(inventory.doc.http?.url).toBe(`http://${lab.portableIp}/health`);
    expect(inventory.doc.memcached?.servers).toEqual([`${lab.addresses.web1}:11211`, `${lab.addresses.web2}:11211`]);
    expect(inventory.hosts.get('web2')?.address).toBe(lab.addresses.web2);
    expect(await lab.deviations()).toEqual([]);
  });

  it('hosts answer ssh with strict host keys and see different files at the same paths', async () => {
    const web1 = await lab.ssh('web1', 'sudo -n grep ^site.host /etc/wiki/app.ini; sudo -n ls -a /root; test -d /run/postgresql && echo run-ok');
    const web2 = await lab.ssh('web2', 'sudo -n grep ^site.host /etc/wiki/app.ini');
    expect(web1.exitCode).toBe(0);
    expect(web1.stdout).toContain('site.host = web1');
    expect(web1.stdout).toContain('.bashrc');
    expect(web1.stdout).toContain('run-ok');
    expect(web2.stdout).toContain('site.host = web2');
    const before = await lab.sshConnections('web2');
    await lab.ssh('web2', 'true');
    expect(await eventually(async () => (await lab.sshConnections('web2')) === before + 1, 5000)).toBe(true);
    // The control machine's real /root and /etc/wiki are untouched by the hosts.
    await expect(stat('/etc/wiki/app.ini')).rejects.toThrow();
  });

  it('is built like production: no root logins, an unprivileged user with NOPASSWD sudo, root-only files', async () => {
    const asRoot = await run('ssh', [...lab.sshArgs('web1').slice(0, -1), `root@${lab.addresses.web1}`, 'true']);
    expect(asRoot.exitCode).toBe(255);
    expect(asRoot.stderr).toMatch(/Permission denied/);
    const who = await lab.ssh('web1', 'id -u; sudo -n id -u');
    expect(who.stdout.trim().split('\n')).toEqual([expect.not.stringMatching(/^0$/), '0']);
    const sessions = await lab.ssh('web1', 'cat /etc/wiki/app.ini; sudo -n stat -c "%U %a" /etc/wiki/app.ini');
    expect(sessions.stderr).toMatch(/Permission denied/);
    expect(sessions.stdout.trim()).toBe('root 640');
    const upload = await lab.ssh('web1', `cat /srv/wiki/uploads/${ROOT_ONLY_UPLOADS[0]}`);
    expect(upload.exitCode).not.toBe(0);
    const ifaces = await Promise.all((['web1', 'web2'] as const).map((h) => lab.hostExec(h, `ip -o link show dev ${lab.iface[h]}`)));
    expect(ifaces.map((r) => r.exitCode)).toEqual([0, 0]);
    expect(lab.iface.web1).not.toBe(lab.iface.web2);
  });

  it('hosts reach each other over ssh both ways, as root through the login user, with their own keys', async () => {
    const hop = (to: 'web1' | 'web2') => `sudo -n ssh -p ${lab.sshPort} -l ${lab.user} ${lab.addresses[to]} 'sudo -n grep ^site.host /etc/wiki/app.ini'`;
    const fromWeb2 = await lab.ssh('web2', hop('web1'));
    const fromWeb1 = await lab.ssh('web1', hop('web2'));
    expect(fromWeb2.stdout).toContain('site.host = web1');
    expect(fromWeb1.stdout).toContain('site.host = web2');
  });

  it('asks for a password on every TCP connection to PostgreSQL; the replication login only replicates', async () => {
    const psqlTcp = (user: string, sql: string, password?: string) =>
      run('/bin/sh', ['-c', `${password ? `PGPASSWORD='${password}' ` : ''}psql -X -At -w -h ${lab.addresses.web1} -p ${PG_PORT} -U ${user} -d wiki -c "${sql}"`]);
    const without = await psqlTcp('postgres', 'SELECT 1');
    expect(without.exitCode).not.toBe(0);
    expect(without.stderr).toMatch(/no password supplied/);
    const wrong = await psqlTcp('postgres', 'SELECT 1', 'not-the-password');
    expect(wrong.stderr).toMatch(/password authentication failed/);
    expect((await psqlTcp('postgres', 'SELECT 1', lab.password)).stdout.trim()).toBe('1');
    const replicator = await psqlTcp('replicator', 'SELECT count(*) FROM writes', lab.password);
    expect(replicator.stderr).toMatch(/permission denied/);
    const settings = await lab.hostExec('web1', `${PSQL} -c "SELECT current_setting('fsync'), current_setting('full_page_writes'), current_setting('synchronous_commit'), rolsuper, rolreplication FROM pg_roles WHERE rolname = 'replicator'"`);
    expect(settings.stdout.trim()).toBe('on|on|on|f|t');
    // No password stored for the database OS user on either host before the first run.
    for (const host of ['web1', 'web2'] as const) {
      expect((await lab.hostExec(host, 'ls -a /var/lib/postgresql /root')).stdout).not.toContain('.pgpass');
    }
  });

  it('runs a PostgreSQL primary on web1 and a streaming replica on web2', async () => {
    expect(await streaming(lab, 'web1', 'web2')).toBe(true);
    expect((await lab.ssh('web2', `sudo -n ${PSQL} -c 'SELECT pg_is_in_recovery()'`)).stdout.trim()).toBe('t');
    expect((await lab.ssh('web1', `sudo -n ${PSQL} -c 'SELECT pg_is_in_recovery()'`)).stdout.trim()).toBe('f');
    const written = await http(`http://${lab.addresses.web1}/write?note=replicated`, { method: 'POST' });
    expect(written.status).toBe(200);
    const id = Number(written.body.id);
    expect(await eventually(async () => (await lab.hostExec('web2', `${PSQL} -c 'SELECT count(*) FROM writes WHERE id = ${id}'`)).stdout.trim() === '1')).toBe(true);
    const settings = await lab.hostExec('web1', `${PSQL} -c "SELECT current_setting('wal_log_hints'), current_setting('data_checksums')"`);
    expect(settings.stdout.trim()).toBe('on|off');
  });

  it('serves /health through the portable IP, from the client namespace and the control machine', async () => {
    const fromControl = await http(`http://${lab.portableIp}/health`);
    expect(fromControl.status).toBe(200);
    expect(fromControl.body).toEqual({ host: 'web1', db_role: 'primary', session_mode: 'database' });
    const script = `fetch('http://${lab.portableIp}/health').then(async (r) => console.log(r.status, await r.text()))`;
    const fromClient = await lab.hostExec('client', `'${process.execPath}' -e "${script}"`);
    expect(fromClient.stdout).toContain('200');
    expect(fromClient.stdout).toContain('"host":"web1"');
    const web2 = await http(`http://${lab.addresses.web2}/health`);
    expect(web2.body).toEqual({ host: 'web2', db_role: 'replica', session_mode: 'database' });
  });

  it('fails logged-in requests on the read-only mirror until its sessions go to memcache', async () => {
    const login = await http(`http://${lab.addresses.web1}/login?user=alice`, { method: 'POST' });
    expect(login.status).toBe(200);
    const headers = { cookie: `sid=${login.cookie}` };
    expect((await http(`http://${lab.addresses.web1}/page`, { headers })).status).toBe(200);
    expect((await http(`http://${lab.addresses.web2}/login?user=bob`, { method: 'POST' })).status).toBe(503);
    await eventually(async () => (await lab.hostExec('web2', `${PSQL} -c "SELECT count(*) FROM sessions WHERE id = '${login.cookie}'"`)).stdout.trim() === '1');
    const readOnly = await http(`http://${lab.addresses.web2}/page`, { headers });
    expect(readOnly.status).toBe(500);
    expect(String(readOnly.body.error)).toContain('cannot write session');
    const { labInventory } = await import('../../src/lab/inventory.js');
    expect(labInventory).toBeTypeOf('function');
    const reload = 'kill -HUP "$(cat /run/wiki-app.pid)"';
    const switched = await lab.ssh('web2', `sudo -n sed -i 's/^session.backend = database/session.backend = memcache/' /etc/wiki/app.ini && sudo -n sh -c '${reload}'`);
    expect(switched.exitCode).toBe(0);
    expect(await eventually(async () => (await http(`http://${lab.addresses.web2}/health`)).body.session_mode === 'memcache')).toBe(true);
    const served = await http(`http://${lab.addresses.web2}/page`, { headers });
    expect(served.status).toBe(200);
    expect(served.body.user).toBe('alice');
    // A session only memcached knows is accepted in read-only mode.
    await memcacheSet(`${lab.addresses.web2}:11211`, 'wiki:session:feedbeef', JSON.stringify({ user: 'carol' }));
    expect((await http(`http://${lab.addresses.web2}/page`, { headers: { cookie: 'sid=feedbeef' } })).body.user).toBe('carol');
    await lab.ssh('web2', `sudo -n sed -i 's/^session.backend = memcache/session.backend = database/' /etc/wiki/app.ini && sudo -n sh -c '${reload}'`);
  });

  it('leaves three uploads for files.sync to copy to web2', async () => {
    const rsync = (path: string) =>
      `sudo -n rsync -an --out-format='%n' -e 'ssh -p ${lab.sshPort} -l ${lab.user}' --rsync-path='sudo -n rsync' ${lab.addresses.web1}:${path}/ ${path}/`;
    const dryRun = await lab.ssh('web2', rsync('/srv/wiki/uploads'));
    expect(dryRun.exitCode).toBe(0);
    const files = dryRun.stdout.split('\n').filter((line) => line && !line.endsWith('/'));
    expect(files.sort()).toEqual([...UPLOADS_MISSING_ON_WEB2].sort());
    const avatars = await lab.ssh('web2', rsync('/srv/wiki/avatars'));
    expect(avatars.stdout.split('\n').filter((line) => line && !line.endsWith('/'))).toEqual([]);
  });

  it('runs memcached on both hosts, reachable from the control machine', async () => {
    for (const host of ['web1', 'web2'] as const) {
      const server = `${lab.addresses[host]}:11211`;
      await memcacheSet(server, 'lab-test', host);
      expect(await memcacheGet(server, 'lab-test')).toBe(host);
    }
  });

  it("passes the inventory's preflight checks on both hosts", async () => {
    const text = await readFile(lab.inventory, 'utf8');
    const checks = [...text.matchAll(/^\s+run: (.+)$/gm)].map((m) => m[1]!);
    expect(checks.length).toBe(2);
    for (const host of ['web1', 'web2'] as const) {
      for (const check of checks) expect((await lab.ssh(host, check)).exitCode).toBe(0);
    }
  });

  it('lab up again is harmless: nothing restarted, nothing moved', async () => {
    const before = await lab.hostExec('web1', 'cat /run/sshd.pid /run/wiki-app.pid; head -n 1 /var/lib/postgresql/15/main/postmaster.pid');
    await labUpAt(DIR, quiet);
    const after = await lab.hostExec('web1', 'cat /run/sshd.pid /run/wiki-app.pid; head -n 1 /var/lib/postgresql/15/main/postmaster.pid');
    expect(after.stdout).toBe(before.stdout);
    expect((await http(`http://${lab.portableIp}/health`)).body.host).toBe('web1');
    const status = await labStatusAt(DIR);
    expect(status.up).toBe(true);
    expect(status.hosts.map((h) => [h.name, h.postgres, h.memcached, h.webapp.health, h.holds_portable_ip, h.sshd !== null])).toEqual([
      ['web1', 'primary', true, 'ok', true, true],
      ['web2', 'replica', true, 'ok', false, true],
    ]);
  });

  it('cuts a host off (link down, processes killed) and brings it back as after a reboot', async () => {
    await lab.cut('web1');
    expect(await run('ip', ['netns', 'pids', lab.netns.web1]).then((r) => r.stdout.trim())).toBe('');
    const unreachable = await run('ssh', [...lab.sshArgs('web1').map((a) => (a === 'ConnectTimeout=5' ? 'ConnectTimeout=1' : a)), 'true']);
    expect(unreachable.exitCode).toBe(255);
    await expect(fetch(`http://${lab.portableIp}/health`, { signal: AbortSignal.timeout(1000) })).rejects.toThrow();
    expect(await lab.deviations()).toContain('web1: link down');
    await lab.restore('web1');
    expect((await http(`http://${lab.portableIp}/health`)).body).toMatchObject({ host: 'web1', db_role: 'primary' });
    expect((await lab.ssh('web1', 'true')).exitCode).toBe(0);
    expect(await eventually(() => streaming(lab, 'web1', 'web2'))).toBe(true);
    expect(await memcacheGet(`${lab.addresses.web1}:11211`, 'lab-test')).toBeNull();
    expect(await lab.deviations()).toEqual([]);
  });

  it('lab down leaves nothing behind, and leaves the other lab alone', async () => {
    const inodes = new Set<string>();
    for (const node of ['web1', 'web2', 'client'] as const) {
      const pid = (await run('ip', ['netns', 'pids', lab.netns[node]])).stdout.split(/\s+/)[0];
      if (pid) inodes.add(await readlink(`/proc/${pid}/ns/net`));
    }
    for (const host of ['web1', 'web2'] as const) {
      const pid = (await lab.hostExec(host, 'cat /run/sshd.pid')).stdout.trim();
      inodes.add(await readlink(`/proc/${pid}/ns/mnt`));
    }
    expect(inodes.size).toBe(4);
    await labDownAt(DIR, quiet);
    const netns = (await run('ip', ['netns', 'list'])).stdout;
    for (const name of Object.values(lab.netns)) expect(netns).not.toContain(name);
    const links = (await run('ip', ['-o', 'link', 'show'])).stdout;
    for (const name of [lab.bridge, ...Object.values(lab.veth)]) expect(links).not.toContain(`${name}:`);
    expect(await readFile('/proc/self/mountinfo', 'utf8')).not.toContain(DIR);
    await expect(stat(DIR)).rejects.toThrow();
    expect(await eventually(async () => (await processesOf(inodes, DIR)).length === 0, 5000)).toBe(true);
    expect((await run('ip', ['route'])).stdout).not.toContain(`${lab.subnet}.0/24`);
    expect((await http(`http://${shared.portableIp}/health`)).status).toBe(200);
    expect((await labStatusAt(DIR)).up).toBe(false);
    // What it added to the machine is gone too: the login user and its sudoers rule.
    expect((await run('id', ['-u', lab.user])).exitCode).not.toBe(0);
    await expect(stat(`/etc/sudoers.d/mirrorctl-lab-${labNames(DIR).hash}`)).rejects.toThrow();
    // Down again: harmless.
    await labDownAt(DIR, quiet);
  });

  it('lab up after lab down works again', async () => {
    await labUpAt(DIR, quiet);
    lab = await describeLab(DIR);
    expect((await http(`http://${lab.portableIp}/health`)).body).toEqual({ host: 'web1', db_role: 'primary', session_mode: 'database' });
    expect(await streaming(lab, 'web1', 'web2')).toBe(true);
    expect((await lab.ssh('web2', 'true')).exitCode).toBe(0);
  });

  it('leaves the shared test lab up for the other test files', async () => {
    const again = await ensureLab();
    expect((await http(`http://${again.portableIp}/health`)).status).toBe(200);
  });
});
