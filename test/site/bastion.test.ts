// A site behind a bastion: the control machine may not reach the hosts' SSH or HTTP
// ports (nftables inside the hosts' namespaces), only a bastion on the lab network.
// The OpenSSH config says so (ProxyJump), and mirrorctl must go through it: the
// hosts' sshd logs show logins from the bastion's address only.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptedFrom, blockControlMachine, startBastion, unblockControlMachine, type LabBastion } from '../helpers/bastion.js';
import { events } from '../helpers/cli.js';
import { ensureLab, type LabHostName, type TestLab } from '../helpers/lab.js';
import { HOSTS, inRecovery, ipOn, labCli, snapshot, streamsFrom } from '../helpers/site-state.js';

let lab: TestLab;
let bastion: LabBastion;
let dir: string;
/** One hop: ProxyJump by the inventory names. */
let oneHop: string;
/** Two hops, and addresses that only the config file resolves. */
let aliases: string;

const OUTER_PORT = 22;
const INNER_PORT = 2200;

beforeAll(async () => {
  lab = await ensureLab();
  bastion = await startBastion(lab, 40, [OUTER_PORT, INNER_PORT]);
  await blockControlMachine(lab, HOSTS, [lab.sshPort, 80]);
  dir = mkdtempSync(join(tmpdir(), 'mirrorctl-bastion-test-'));
  writeFileSync(join(dir, 'bastion_known_hosts'), bastion.servers.map((s) => `${s.knownHostsLine}\n`).join(''));
  const jumpHosts = [
    'Host bastion',
    `  HostName ${bastion.address}`,
    `  Port ${OUTER_PORT}`,
    'Host bastion-inner',
    `  HostName ${bastion.address}`,
    `  Port ${INNER_PORT}`,
    'Host bastion bastion-inner',
    `  User ${lab.user}`,
    `  IdentityFile ${lab.identityFile}`,
    `  UserKnownHostsFile ${join(dir, 'bastion_known_hosts')}`,
  ];
  writeFileSync(join(dir, 'one-hop.conf'), ['Host web1 web2', '  ProxyJump bastion', ...jumpHosts, ''].join('\n'));
  writeFileSync(
    join(dir, 'aliases.conf'),
    [
      'Host *.behind',
      '  ProxyJump bastion,bastion-inner',
      'Host web1.behind',
      `  HostName ${lab.addresses.web1}`,
      'Host web2.behind',
      `  HostName ${lab.addresses.web2}`,
      ...jumpHosts,
      '',
    ].join('\n'),
  );
  const inventory = readFileSync(lab.inventory, 'utf8');
  const withConfig = (file: string) => inventory.replace(/^ssh:\n/m, `ssh:\n  config_file: ${join(dir, file)}\n`);
  oneHop = join(dir, 'one-hop.yaml');
  writeFileSync(oneHop, withConfig('one-hop.conf'));
  aliases = join(dir, 'aliases.yaml');
  writeFileSync(
    aliases,
    withConfig('aliases.conf')
      .replace(`address: ${lab.addresses.web1}\n`, 'address: web1.behind\n')
      .replace(`address: ${lab.addresses.web2}\n`, 'address: web2.behind\n'),
  );
});

afterAll(async () => {
  if (lab) await unblockControlMachine(lab, HOSTS);
  await bastion?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Logins in each host's sshd log since `since` (a count of earlier lines), by source address. */
function loginsSince(since: Record<LabHostName, number>): Record<LabHostName, string[]> {
  return {
    web1: acceptedFrom(lab.sshdLog.web1).slice(since.web1).map((l) => l.from),
    web2: acceptedFrom(lab.sshdLog.web2).slice(since.web2).map((l) => l.from),
  };
}

/** The same, without the hosts' own logins to each other (rsync's, in files.sync checks and applies). */
function outsideLoginsSince(since: Record<LabHostName, number>): Record<LabHostName, string[]> {
  const hosts = new Set(HOSTS.map((h) => lab.addresses[h]));
  const all = loginsSince(since);
  return { web1: all.web1.filter((a) => !hosts.has(a)), web2: all.web2.filter((a) => !hosts.has(a)) };
}

function loginCounts(): Record<LabHostName, number> {
  return { web1: acceptedFrom(lab.sshdLog.web1).length, web2: acceptedFrom(lab.sshdLog.web2).length };
}

/** Logins of each bastion sshd so far. */
function bastionLogins(): number[] {
  return bastion.servers.map((s) => s.logins().length);
}

/** /health through the portable IP, asked from the client namespace (the control machine's own port 80 is blocked). */
async function healthFromClient(): Promise<Record<string, string> | null> {
  const r = await lab.hostExec('client', `curl -s -m 3 http://${lab.portableIp}/health`);
  return r.exitCode === 0 ? (JSON.parse(r.stdout) as Record<string, string>) : null;
}

describe('a site behind a bastion', () => {
  it('the control machine cannot reach the hosts directly: real ssh fails, and the plain inventory finds no host', async () => {
    const direct = await lab.ssh('web1', 'true');
    expect(direct.exitCode).toBe(255);
    const r = await labCli(lab, ['status', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).hosts.map((h: { reachable: boolean }) => h.reachable)).toEqual([false, false]);
  });

  it('status through one hop: both hosts answer, logins come from the bastion only, one bastion connection for the run', async () => {
    const before = { hosts: loginCounts(), bastion: bastionLogins() };
    const r = await labCli(lab, ['status', '--json'], oneHop);
    expect(r.code, r.stderr).toBe(0);
    const status = JSON.parse(r.stdout);
    expect(status).toMatchObject({ served_by: 'web1', warnings: [] });
    expect(status.hosts.map((h: any) => [h.name, h.reachable, h.db.role])).toEqual([
      ['web1', true, 'primary'],
      ['web2', true, 'replica'],
    ]);
    expect(loginsSince(before.hosts)).toEqual({ web1: [bastion.address], web2: [bastion.address] });
    expect(bastionLogins().map((n, i) => n - before.bastion[i]!)).toEqual([1, 0]);
    expect(bastion.servers[0]!.logins().at(-1)!.from).toBe(lab.addresses.bridge);
  });

  it('a dry-run switchover through two hops to hosts named by aliases: every check runs, nothing changes', async () => {
    const before = { hosts: loginCounts(), bastion: bastionLogins(), site: await snapshot(lab) };
    const r = await labCli(lab, ['switchover', '--dry-run', '--json'], aliases);
    expect(r.code, r.stderr).toBe(0);
    const checks = events(r.stdout).filter((e) => e.event === 'step.check');
    expect(checks.length).toBeGreaterThan(10);
    for (const c of checks) expect(['ready', 'done'], `${c.step}: ${c.summary}`).toContain(c.status);
    expect(checks.find((c) => c.step === 'verify-http')!.summary).toBe(`will expect 200 from http://${lab.portableIp}/health (through web2's SSH connection)`);
    expect(await snapshot(lab)).toEqual(before.site);
    // One connection per hop: the outer bastion from the control machine, the inner one from the outer.
    expect(bastionLogins().map((n, i) => n - before.bastion[i]!)).toEqual([1, 1]);
    expect(bastion.servers[1]!.logins().at(-1)!.from).toBe(bastion.address);
    expect(outsideLoginsSince(before.hosts)).toEqual({ web1: [bastion.address], web2: [bastion.address] });
  });

  it('a real switchover through the bastion and back: HTTP verified through the target, no login from the control machine', async () => {
    const before = loginCounts();
    const there = await labCli(lab, ['switchover', '--yes', '--json', '--probe'], oneHop);
    expect(there.code, there.stderr).toBe(0);
    const all = events(there.stdout);
    expect(all.at(-1)).toMatchObject({ event: 'run.end', outcome: 'succeeded' });
    // Port 80 is closed to the control machine: the probe measured through web2's SSH connection, and saw the site.
    const probe = all.find((e) => e.event === 'probe.summary')!;
    expect(probe.from).toBe("control machine, through web2's SSH connection");
    expect(probe.reachable).toBe(true);
    expect(probe.failed_requests).toBeLessThan(probe.requests);
    expect(all.filter((e) => e.event === 'step.verify' && e.step === 'verify-http').at(-1)!.summary).toBe(
      `http://${lab.portableIp}/health answered 200 (through web2's SSH connection)`,
    );
    expect(await inRecovery(lab, 'web2')).toBe(false);
    expect(await inRecovery(lab, 'web1')).toBe(true);
    expect(await streamsFrom(lab, 'web1')).toBe(lab.addresses.web2);
    expect(await ipOn(lab)).toEqual(['web2']);
    expect(await healthFromClient()).toMatchObject({ host: 'web2', db_role: 'primary', session_mode: 'database' });

    const back = await labCli(lab, ['switchover', '--yes', '--json'], oneHop);
    expect(back.code, back.stderr).toBe(0);
    expect(await inRecovery(lab, 'web1')).toBe(false);
    expect(await streamsFrom(lab, 'web2')).toBe(lab.addresses.web1);
    expect(await ipOn(lab)).toEqual(['web1']);
    expect(await healthFromClient()).toMatchObject({ host: 'web1', db_role: 'primary', session_mode: 'database' });

    // One login per host per run, from the bastion; the others are the hosts' own rsync logins to each other.
    expect(outsideLoginsSince(before)).toEqual({ web1: [bastion.address, bastion.address], web2: [bastion.address, bastion.address] });
    expect(loginsSince(before).web1).not.toContain(lab.addresses.bridge);
  });
});
