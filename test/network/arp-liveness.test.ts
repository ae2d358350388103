// Spec 8's ARP shortcut on the lab. A host cut off on the control machine's own segment is
// found dead by ARP before the SSH connect timeout ends; from another segment (a namespace
// routed to the lab through a router namespace) the full connect timeout applies; a live
// host that is too busy to send its SSH banner still answers ARP and is never taken for dead.
// The reason each run gives is read from its blocked step, as an operator reads it.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/lab/exec.js';
import { labNames } from '../../src/lab/paths.js';
import { BIN, events } from '../helpers/cli.js';
import { networkSite, type NetworkSite } from './site.js';

let site: NetworkSite;
let playbook: string;
let far: string;
let rtr: string;
let names: ReturnType<typeof labNames>;

const FAR_NET = '172.31.77';

async function sh(command: string): Promise<void> {
  const r = await run('sh', ['-c', command]);
  if (r.exitCode !== 0) throw new Error(`${command}: ${r.stderr}`);
}

/** Removes the routed segment (harmless when it is not there). */
async function removeRoutedSegment(): Promise<void> {
  await run('sh', ['-c', `ip netns del ${far} 2>/dev/null; ip netns del ${rtr} 2>/dev/null; ip link del ${names.hash}rtb 2>/dev/null; true`]);
}

/** `mirrorctl run PLAYBOOK --dry-run --json`, from the root namespace or from inside `netns`. */
function dryRun(netns: string | null): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const args = [BIN, 'run', playbook, '-c', site.lab.inventory, '--dry-run', '--json'];
  const [file, argv] = netns ? ['ip', ['netns', 'exec', netns, process.execPath, ...args]] : [process.execPath, args];
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { env: { ...process.env, NO_COLOR: '1', XDG_STATE_HOME: `${site.dir}/state` }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** What the plan said of each host's assert step. */
function checksOf(stdout: string): Record<string, { status: string; summary: string }> {
  const found: Record<string, { status: string; summary: string }> = {};
  for (const e of events(stdout)) if (e.event === 'step.check' && e.phase === 'plan') found[e.step] = { status: e.status, summary: e.summary };
  return found;
}

beforeAll(async () => {
  site = await networkSite();
  names = labNames(site.lab.dir);
  far = `${names.netns.web1.replace(/-web1$/, '')}-far`;
  rtr = `${names.netns.web1.replace(/-web1$/, '')}-rtr`;
  playbook = site.playbook(
    'both-hosts',
    ['web1', 'web2'].map((h) => `  - id: on-${h}\n    action: assert\n    host: ${h}\n    with: { run: "true", message: "${h} answers" }\n`).join(''),
  );
  // Another segment: FAR (172.31.77.2/30) → RTR (172.31.77.1, and .30 on the lab bridge, masquerading).
  await removeRoutedSegment();
  const [fa, fb, rl, rb] = [`${names.hash}fa`, `${names.hash}fb`, `${names.hash}rtl`, `${names.hash}rtb`];
  await sh(
    [
      `ip netns add ${far}`,
      `ip netns add ${rtr}`,
      `ip link add ${fa} type veth peer name ${fb}`,
      `ip link set ${fa} netns ${far}`,
      `ip link set ${fb} netns ${rtr}`,
      `ip link add ${rb} type veth peer name ${rl}`,
      `ip link set ${rl} netns ${rtr}`,
      `ip link set ${rb} master ${site.lab.bridge} up`,
      `ip -n ${far} link set lo up`,
      `ip -n ${far} addr add ${FAR_NET}.2/30 dev ${fa}`,
      `ip -n ${far} link set ${fa} up`,
      `ip -n ${far} route add default via ${FAR_NET}.1`,
      `ip -n ${rtr} link set lo up`,
      `ip -n ${rtr} addr add ${FAR_NET}.1/30 dev ${fb}`,
      `ip -n ${rtr} link set ${fb} up`,
      `ip -n ${rtr} addr add ${site.lab.subnet}.30/24 dev ${rl}`,
      `ip -n ${rtr} link set ${rl} up`,
      `ip netns exec ${rtr} sysctl -qw net.ipv4.ip_forward=1`,
      `ip netns exec ${rtr} nft 'add table ip nat; add chain ip nat post { type nat hook postrouting priority 100 ; }; add rule ip nat post oifname "${rl}" masquerade'`,
    ].join(' && '),
  );
});

afterAll(async () => {
  await removeRoutedSegment();
  if (site) await site.lab.restore('web2');
});

describe('a host that does not answer: ARP decides only on the same segment', () => {
  it('both hosts up: from the routed segment too, both answer (the route works)', async () => {
    const here = await dryRun(null);
    const there = await dryRun(far);
    expect(here.code, here.stderr).toBe(0);
    expect(there.code, there.stderr).toBe(0);
    expect(checksOf(there.stdout)['on-web2']?.status).toBe('ready');
  });

  it('web2 busy (sshd stopped: TCP accepted, no banner) still answers ARP: the full connect timeout, never "dead by ARP"', async () => {
    expect((await site.lab.hostExec('web2', 'kill -STOP "$(cat /run/sshd.pid)"')).exitCode).toBe(0);
    try {
      const here = await dryRun(null);
      expect(here.code).toBe(3);
      const web2 = checksOf(here.stdout)['on-web2'];
      expect(web2?.status).toBe('blocked');
      expect(web2?.summary).toMatch(/did not answer within 1000 ms/);
      expect(web2?.summary).not.toMatch(/ARP/);
      expect(checksOf(here.stdout)['on-web1']?.status).toBe('ready');
    } finally {
      await site.lab.hostExec('web2', 'kill -CONT "$(cat /run/sshd.pid)"');
    }
  });

  it('web2 cut off: on the same segment it is dead by ARP; from the routed segment the connect timeout decides', async () => {
    await site.lab.cut('web2');
    const here = await dryRun(null);
    expect(here.code).toBe(3);
    expect(checksOf(here.stdout)['on-web2']?.summary).toMatch(/does not answer: none of 3 ARP requests over 300 ms on \S+ \(its own segment\) was answered/);
    expect(checksOf(here.stdout)['on-web1']?.status).toBe('ready');

    const there = await dryRun(far);
    expect(there.code).toBe(3);
    const web2 = checksOf(there.stdout)['on-web2'];
    expect(web2?.summary).toMatch(/did not answer within 1000 ms/);
    expect(web2?.summary).not.toMatch(/ARP/);
    expect(checksOf(there.stdout)['on-web1']?.status).toBe('ready');
  });
});
