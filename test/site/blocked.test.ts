import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { events } from '../helpers/cli.js';
import { ensureLab, type TestLab } from '../helpers/lab.js';
import { labCli, psql, snapshot } from '../helpers/site-state.js';

// Every blocked case: exit 3, a message naming what blocked, and nothing changed on the site.
let lab: TestLab;
const cli = (args: string[], inventory = lab.inventory) => labCli(lab, args, inventory);

function inventoryCopy(name: string, edit: (yaml: string) => string): string {
  const file = `${lab.dir}/${name}.yaml`;
  writeFileSync(file, edit(readFileSync(lab.inventory, 'utf8')));
  return file;
}

async function expectBlocked(args: string[], pattern: RegExp, inventory?: string): Promise<Array<Record<string, any>>> {
  const before = await snapshot(lab);
  const r = await cli([...args, '--json'], inventory);
  expect(r.code, r.stderr).toBe(3);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  const last = events(r.stdout).at(-1)!;
  expect(['run.end', 'error']).toContain(last.event);
  expect(last.exit_code).toBe(3);
  expect(await snapshot(lab)).toEqual(before);
  return events(r.stdout);
}

beforeAll(async () => {
  lab = await ensureLab();
});

afterEach(async () => {
  lab = await ensureLab();
});

describe('blocked runs change nothing (exit 3)', () => {
  it('replica lag above max_lag_bytes (replay paused while writes continue)', async () => {
    const inventory = inventoryCopy('small-lag', (y) => y.replace('  dbname: wiki\n', '  dbname: wiki\n  max_lag_bytes: 1000\n'));
    await psql(lab, 'web2', 'select pg_wal_replay_pause()');
    try {
      await psql(lab, 'web1', "insert into writes (note) select repeat('x', 1000) from generate_series(1, 2000)");
      const evs = await expectBlocked(['switchover', '--yes'], /blocked/, inventory);
      const promote = evs.find((e) => e.event === 'step.check' && e.step === 'promote')!;
      expect(promote.status).toBe('blocked');
      expect(promote.summary).toMatch(/max_lag_bytes 1000/);
    } finally {
      await psql(lab, 'web2', 'select pg_wal_replay_resume()');
    }
  });

  it('the target interface is missing', async () => {
    const inventory = inventoryCopy('no-iface', (y) => y.replace(`interface: ${lab.iface.web2}`, 'interface: eth9'));
    await expectBlocked(['switchover', '--yes'], /eth9/, inventory);
  });

  it('another machine answers ARP for the portable IP', async () => {
    await lab.hostExec('client', `ip addr add ${lab.portableCidr} dev eth0`);
    try {
      await expectBlocked(['switchover', '--yes'], /ARP/);
    } finally {
      await lab.hostExec('client', `ip addr del ${lab.portableCidr} dev eth0`);
    }
  });

  it('a memcached server refuses flushes (started with -F)', async () => {
    await lab.hostExec('web2', `memcached -u memcache -l ${lab.addresses.web2} -p 11299 -F -d -P /run/memcached-noflush.pid`);
    try {
      const inventory = inventoryCopy('noflush', (y) => y.replace(/servers: \[(.*)\]/, (_m, list: string) => `servers: [${list}, "${lab.addresses.web2}:11299"]`));
      await expectBlocked(['switchover', '--yes'], /11299.*flush/s, inventory);
    } finally {
      await lab.hostExec('web2', 'kill "$(cat /run/memcached-noflush.pid)"');
    }
  });

  it('the replica does not answer: no target can be chosen', async () => {
    await lab.cut('web2');
    const r = await cli(['switchover', '--yes', '--json']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/no reachable replica.*web2 unreachable.*--to/s);
    expect(events(r.stdout)).toEqual([expect.objectContaining({ event: 'error', exit_code: 3, run_id: null })]);
    const failover = await cli(['failover', '--yes']);
    expect(failover.code).toBe(3);
  });

  it('two primaries block failover and switchover, pointing at rejoin', async () => {
    await psql(lab, 'web2', 'select pg_promote()');
    for (let i = 0; i < 50 && (await psql(lab, 'web2', 'select pg_is_in_recovery()')) === 't'; i += 1) await new Promise((r) => setTimeout(r, 100));
    for (const command of ['switchover', 'failover']) {
      const r = await cli([command, '--yes']);
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/two database primaries.*rejoin/s);
    }
    const status = JSON.parse((await cli(['status', '--json'])).stdout);
    expect(status.warnings.join(' ')).toMatch(/two database primaries/);
  });

  it('a changed host key blocks even the optional fencing steps, naming the fingerprint', async () => {
    const { execFileSync } = await import('node:child_process');
    const keyFile = `${lab.dir}/impostor_ed25519`;
    execFileSync('sh', ['-c', `rm -f ${keyFile} ${keyFile}.pub && ssh-keygen -q -t ed25519 -N '' -f ${keyFile}`]);
    const impostor = readFileSync(`${keyFile}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
    const knownHosts = `${lab.dir}/changed_known_hosts`;
    const lines = readFileSync(lab.knownHostsFile, 'utf8').split('\n');
    const web1 = `[${lab.addresses.web1}]:${lab.sshPort}`;
    writeFileSync(knownHosts, lines.map((l) => (l.startsWith(`${web1} `) && l.includes('ssh-ed25519') ? `${web1} ${impostor}` : l)).join('\n'));
    const inventory = inventoryCopy('changed-key', (y) => y.replace(/known_hosts: .*/, `known_hosts: ${knownHosts}`));
    const before = await snapshot(lab);
    const r = await cli(['failover', '--yes', '--json'], inventory);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/web1.*host key.*SHA256:[A-Za-z0-9+/]+/s);
    expect(await snapshot(lab)).toEqual(before);
  });

  it('a host not in the inventory is a usage error (exit 2)', async () => {
    const r = await cli(['switchover', '--to', 'web9', '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/web9/);
  });
});
