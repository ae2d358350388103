// ip.move / ip.claim / ip.release against the lab: the address in the hosts' namespaces,
// ARP seen from the client namespace, HTTP through the portable IP.
import { runCli } from '../helpers/cli.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitHealth } from '../../src/lab/health.js';
import { arpFromClient, ipHoldersInLab, macInLab, networkSite, portableIpBackOnWeb1, type NetworkSite } from './site.js';

let site: NetworkSite;
let toWeb2: string;
let toWeb1: string;

beforeAll(async () => {
  site = await networkSite();
  const move = (from: string, to: string) => `  - id: move-ip\n    action: ip.move\n    with: { from: ${from}, to: ${to} }\n    timeout: 15s\n`;
  toWeb2 = site.playbook('to-web2', move('web1', 'web2'));
  toWeb1 = site.playbook('to-web1', move('web2', 'web1'));
});

afterEach(async () => {
  await portableIpBackOnWeb1(site.lab);
});

afterAll(async () => {
  await portableIpBackOnWeb1(site.lab);
});

describe('ip.move', () => {
  it('moves the portable IP to web2 (ARP and HTTP follow) and back to web1', async () => {
    const { lab } = site;
    expect(await ipHoldersInLab(lab)).toEqual(['web1']);
    const [web1Mac, web2Mac] = [await macInLab(lab, 'web1'), await macInLab(lab, 'web2')];

    const there = await site.run(toWeb2);
    expect(there.code, there.stderr).toBe(0);
    expect(there.checks('move-ip')[0]).toMatchObject({ phase: 'plan', status: 'ready' });
    expect(there.end('move-ip')).toMatchObject({ outcome: 'changed' });
    expect(await ipHoldersInLab(lab)).toEqual(['web2']);
    expect(await arpFromClient(lab)).toEqual([web2Mac]);
    const health = await waitHealth(lab.portableIp, (h) => h.host === 'web2');
    expect(health?.host).toBe('web2');

    const again = await site.run(toWeb2);
    expect(again.code, again.stderr).toBe(0);
    expect(again.checks('move-ip').map((c) => c.status)).toEqual(['done', 'done']);
    expect(again.end('move-ip')).toMatchObject({ outcome: 'unchanged' });

    const back = await site.run(toWeb1);
    expect(back.code, back.stderr).toBe(0);
    expect(await ipHoldersInLab(lab)).toEqual(['web1']);
    expect(await arpFromClient(lab)).toEqual([web1Mac]);
    expect((await waitHealth(lab.portableIp, (h) => h.host === 'web1'))?.host).toBe('web1');
  });

  it('is blocked, changing nothing, when another machine answers ARP for the address', async () => {
    const { lab } = site;
    await lab.hostExec('client', `ip addr add ${lab.portableCidr} dev eth0`);
    const clientMac = await macInLab(lab, 'client');
    const result = await site.run(toWeb2);
    expect(result.code, result.stderr).toBe(3);
    const plan = result.checks('move-ip')[0]!;
    expect(plan.status).toBe('blocked');
    expect(plan.summary).toContain(`another machine (MAC ${clientMac}) answers ARP for ${lab.portableIp}`);
    expect(await ipHoldersInLab(lab)).toEqual(['web1', 'client']);
  });

  it('is blocked, changing nothing, when the interface does not exist on the target', async () => {
    const { lab } = site;
    const inventory = site.inventoryCopy('eth9', (text) => text.replace(new RegExp(`^(\\s+interface:) ${lab.iface.web2}$`, 'm'), '$1 eth9'));
    const result = await site.run(toWeb2, inventory);
    expect(result.code, result.stderr).toBe(3);
    expect(result.checks('move-ip')[0]).toMatchObject({ status: 'blocked', summary: 'interface eth9 does not exist on web2' });
    expect(await ipHoldersInLab(lab)).toEqual(['web1']);
  });

  it('mends the address on two hosts: moving it to web2 releases it from web1', async () => {
    const { lab } = site;
    await lab.hostExec('web2', `ip addr add ${lab.portableCidr} dev ${lab.iface.web2}`);
    expect(await ipHoldersInLab(lab)).toEqual(['web1', 'web2']);
    const result = await site.run(toWeb2);
    expect(result.code, result.stderr).toBe(0);
    expect(result.checks('move-ip')[0]!.summary).toContain('is on web1 and web2: will release it from web1');
    expect(await ipHoldersInLab(lab)).toEqual(['web2']);
    expect(await arpFromClient(lab)).toEqual([await macInLab(lab, 'web2')]);
  });

  it('releases the address from every interface that has it, whatever the prefix (a second, dummy interface)', async () => {
    const { lab } = site;
    await lab.hostExec('web1', `ip link add mcdummy0 type dummy && ip link set mcdummy0 up && ip addr add ${lab.portableIp}/32 dev mcdummy0`);
    try {
      expect(await ipHoldersInLab(lab)).toEqual(['web1']);
      const status = await runCli(['status', '--json', '-c', lab.inventory]);
      expect(JSON.parse(status.stdout).hosts.find((h: { name: string }) => h.name === 'web1').holds_ip).toBe(true);
      const result = await site.run(toWeb2);
      expect(result.code, result.stderr).toBe(0);
      expect(await ipHoldersInLab(lab)).toEqual(['web2']);
      expect((await lab.hostExec('web1', 'ip -o -4 addr show dev mcdummy0')).stdout).not.toContain(lab.portableIp);
      expect((await site.run(toWeb1)).code).toBe(0);
      expect(await ipHoldersInLab(lab)).toEqual(['web1']);
    } finally {
      await lab.hostExec('web1', 'ip link del mcdummy0');
    }
  });

  it('blocks when a holder that does not answer SSH still answers ARP for the address (a partition never ends with the IP on two hosts)', async () => {
    const { lab } = site;
    // web1 keeps the address and its link, but its sshd is gone: mirrorctl cannot reach it to release it.
    await lab.hostExec('web1', 'p=$(cat /run/sshd.pid); kill "$p"; i=0; while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; rm -f /run/sshd.pid');
    try {
      const web1Mac = await macInLab(lab, 'web1');
      const result = await site.run(toWeb2);
      expect(result.code, result.stderr).toBe(3);
      const plan = result.checks('move-ip')[0]!;
      expect(plan.status).toBe('blocked');
      expect(plan.summary).toContain(`MAC ${web1Mac}`);
      expect(plan.summary).toMatch(/web1 does not answer SSH/);
      expect(await ipHoldersInLab(lab)).toEqual(['web1']);
    } finally {
      await lab.hostExec('web1', 'install -d -m 0755 /run/sshd && /usr/sbin/sshd -f /srv/lab/ssh/sshd_config -E /srv/lab/log/sshd.log');
    }
  });

  it('only claims on the target when `from` does not answer (warning on stderr)', async () => {
    const { lab } = site;
    // A `from` that does not answer: an inventory host on an address nobody has.
    const inventory = site.inventoryCopy('ghost', (text) => text.replace(/^hosts:\n/m, `hosts:\n  ghost:\n    address: ${lab.subnet}.77\n`));
    const playbook = site.playbook('ghost-to-web2', '  - id: move-ip\n    action: ip.move\n    with: { from: ghost, to: web2 }\n    timeout: 15s\n');
    const result = await site.run(playbook, inventory);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('ghost does not answer');
    expect(await ipHoldersInLab(lab)).toEqual(['web2']);
  });
});

describe('ip.release and ip.claim', () => {
  it('releases the address on web1, then claims it back (the plan expects what the release will do)', async () => {
    const { lab } = site;
    const playbook = site.playbook(
      'release-claim',
      '  - id: release\n    action: ip.release\n    host: web1\n  - id: claim\n    action: ip.claim\n    host: web1\n    timeout: 15s\n',
    );
    const result = await site.run(playbook);
    expect(result.code, result.stderr).toBe(0);
    expect(result.checks('release').map((c) => c.status)).toEqual(['ready', 'ready']);
    expect(result.checks('claim')[0]).toMatchObject({ phase: 'plan', status: 'ready' });
    expect(result.checks('claim')[0]!.summary).toContain('after step release');
    expect(result.end('claim')).toMatchObject({ outcome: 'changed' });
    expect(await ipHoldersInLab(lab)).toEqual(['web1']);
    expect(await arpFromClient(lab)).toEqual([await macInLab(lab, 'web1')]);
  });
});
