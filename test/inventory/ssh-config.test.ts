// The OpenSSH config applied to the inventory's hosts (spec 5): by name, then by
// address; the inventory's explicit values win, the config wins over the defaults.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { arpShortcutAllowed } from '../../src/inventory/hosts.js';
import { loadInventory } from '../../src/inventory/load.js';
import type { Inventory } from '../../src/inventory/schema.js';

const dir = mkdtempSync(join(tmpdir(), 'mirrorctl-inv-sshcfg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'id_config'), 'not read here\n');
writeFileSync(join(dir, 'id_bastion'), 'not read here\n');

const SSH_CONFIG = `
Host web1
  User from-name
  Port 2201
  IdentityFile ${dir}/missing_key
  IdentityFile ${dir}/id_config
Host prod-web2
  HostName 10.20.0.12
  User from-address
  Port 2202
  UserKnownHostsFile ${dir}/known_hosts_config
  ProxyJump ops@bastion,inner:2022
Host web1 10.20.0.11
  HostName 10.99.99.99
  User never-used
Host bastion
  HostName 203.0.113.5
  IdentityFile ${dir}/id_bastion
  UserKnownHostsFile ${dir}/known_hosts_bastion
Host inner
  HostName 10.20.0.2
Host legacy
  ProxyCommand nc %h %p
Host *
  Port 22
`;
writeFileSync(join(dir, 'ssh_config'), SSH_CONFIG);

function inventory(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

async function load(name: string, hosts: string, ssh = ''): Promise<Inventory> {
  return loadInventory(inventory(name, `site: s\nssh:\n  config_file: ssh_config\n  connect_timeout_ms: 1500\n${ssh}hosts:\n${hosts}`));
}

describe('the OpenSSH config in the inventory', () => {
  it('fills what the inventory leaves out, from blocks for its name or its address; a Host * at the end hides neither', async () => {
    const inv = await load('a.yaml', '  web1:\n    address: 10.20.0.11\n  web2:\n    address: prod-web2\n');
    const web1 = inv.hosts.get('web1')!;
    expect(web1).toMatchObject({ address: '10.99.99.99', alias: '10.20.0.11' });
    expect(web1.ssh).toMatchObject({ user: 'from-name', port: 2201, identityFile: join(dir, 'id_config'), identityFromConfig: true, configFile: join(dir, 'ssh_config'), jumpHosts: [] });
    expect(web1.ssh.knownHosts).toBe(join(homedir(), '.ssh/known_hosts'));
    const web2 = inv.hosts.get('web2')!;
    expect(web2).toMatchObject({ address: '10.20.0.12', alias: 'prod-web2' });
    expect(web2.ssh).toMatchObject({ user: 'from-address', port: 2202, knownHosts: join(dir, 'known_hosts_config'), identityFile: null });
  });

  it('anything the inventory says explicitly wins, top-level or per host', async () => {
    const inv = await load(
      'b.yaml',
      `  web1:\n    address: 10.20.0.11\n    ssh: { port: 2222 }\n  web2:\n    address: prod-web2\n`,
      `  user: deploy\n  identity_file: id_inventory\n  known_hosts: kh_inventory\n`,
    );
    expect(inv.hosts.get('web1')!.ssh).toMatchObject({ user: 'deploy', port: 2222, identityFile: join(dir, 'id_inventory'), identityFromConfig: false, knownHosts: join(dir, 'kh_inventory') });
    expect(inv.hosts.get('web2')!.ssh).toMatchObject({ user: 'deploy', port: 2202, knownHosts: join(dir, 'kh_inventory') });
  });

  it('HostName applies to the address only: an explicit address is never replaced by the name\'s HostName', async () => {
    const inv = await load('c.yaml', '  web1:\n    address: 10.1.1.1\n');
    expect(inv.hosts.get('web1')).toMatchObject({ address: '10.1.1.1', alias: null });
    expect(arpShortcutAllowed(inv.hosts.get('web1')!)).toBe(true);
  });

  it('ProxyJump hops become jump hosts, each resolved in the config; the rest from the inventory\'s top-level ssh', async () => {
    const inv = await load('d.yaml', '  web2:\n    address: prod-web2\n', `  identity_file: id_inventory\n  user: deploy\n`);
    const web2 = inv.hosts.get('web2')!;
    expect(web2.ssh.jumpHosts.map((hop) => [hop.name, hop.address, hop.ssh.user, hop.ssh.port])).toEqual([
      ['bastion', '203.0.113.5', 'ops', 22],
      ['inner', '10.20.0.2', 'deploy', 2022],
    ]);
    const [bastion, inner] = web2.ssh.jumpHosts;
    expect(bastion!.ssh).toMatchObject({ identityFile: join(dir, 'id_bastion'), identityFromConfig: true, knownHosts: join(dir, 'known_hosts_bastion'), connectTimeoutMs: 1500, sudo: false });
    expect(inner!.ssh).toMatchObject({ identityFile: join(dir, 'id_inventory'), identityFromConfig: false, knownHosts: join(homedir(), '.ssh/known_hosts') });
    expect(arpShortcutAllowed(web2)).toBe(false);
  });

  it('a jump host\'s own ProxyJump is followed (as ssh -J does for the first hop); a loop is an error', async () => {
    writeFileSync(join(dir, 'chained'), 'Host web\n  ProxyJump j2\nHost j2\n  ProxyJump j1\nHost loop\n  ProxyJump loop\n');
    const chained = await loadInventory(inventory('e.yaml', `site: s\nssh: { config_file: chained }\nhosts:\n  web:\n    address: 10.0.0.1\n`));
    expect(chained.hosts.get('web')!.ssh.jumpHosts.map((hop) => hop.name)).toEqual(['j1', 'j2']);
    const error = await loadInventory(inventory('f.yaml', `site: s\nssh: { config_file: chained }\nhosts:\n  loop:\n    address: 10.0.0.2\n`)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/^hosts\.loop: ProxyJump in .* chains more than 8 jump hosts/);
  });

  it('ProxyCommand cannot be honoured: a ConfigError naming the host, the file and the line', async () => {
    const error = await load('g.yaml', '  old:\n    address: legacy\n').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe(`hosts.old: ${join(dir, 'ssh_config')} line 23: ProxyCommand applies to old, and mirrorctl cannot run one (ssh2 connects by itself)`);
    expect((error as ConfigError).hint).toMatch(/use ProxyJump/);
  });

  it('a config_file that does not exist is an error at its key; without the key, a missing ~/.ssh/config is fine', async () => {
    const file = inventory('h.yaml', 'site: s\nhosts:\n  web1:\n    address: 10.0.0.1\n    ssh:\n      config_file: /nonexistent/ssh_config\n');
    const error = await loadInventory(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(`${file}:6 hosts.web1.ssh.config_file: the OpenSSH config /nonexistent/ssh_config does not exist`);
  });

  it('a local host never reads the config', async () => {
    const inv = await load('i.yaml', '  here:\n    local: true\n');
    expect(inv.hosts.get('here')!.ssh.configFile).toBeNull();
  });
});
