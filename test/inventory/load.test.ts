import { homedir } from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { loadInventory } from '../../src/inventory/load.js';

const GOOD = 'test/fixtures/good';
const BAD = 'test/fixtures/bad';

// Loads a bad fixture and returns the ConfigError it must raise.
async function configErrorOf(file: string): Promise<ConfigError> {
  const error = await loadInventory(file).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error, `${file} should be refused`).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe('loadInventory: a complete inventory', () => {
  test('applies defaults', async () => {
    const inventory = await loadInventory(`${GOOD}/mirrorctl.yaml`);
    expect(inventory.file).toBe(`${GOOD}/mirrorctl.yaml`);
    expect(inventory.dir).toBe(path.resolve(GOOD));
    expect(inventory.site).toBe('wiki');
    const { doc } = inventory;
    expect(doc.database).toMatchObject({
      engine: 'postgres',
      port: 5432,
      user: 'dba',
      replication_user: 'dba',
      dbname: 'postgres',
      max_lag_bytes: 16_777_216,
      service: { stop: 'systemctl stop postgresql', start: 'systemctl start postgresql' },
    });
    expect(doc.database?.config_file).toBeUndefined();
    expect(doc.portable_ip).toEqual({ address: '192.0.2.100/24', interface: 'eth0', hosts: ['web1', 'web2'], arp_count: 3, arp_probe_ms: 1000 });
    expect(doc.http).toEqual({ url: 'http://192.0.2.100/health', expect_status: 200 });
    expect(doc.checks?.map((c) => c.hosts)).toEqual([['web1', 'web2'], ['web2']]);
    expect(doc.sessions?.reload).toBeUndefined();
  });

  test('merges ssh settings: defaults ← inventory ssh ← host ssh, with paths expanded', async () => {
    const { hosts } = await loadInventory(`${GOOD}/mirrorctl.yaml`);
    expect([...hosts.keys()]).toEqual(['web1', 'web2']);
    expect(hosts.get('web1')).toEqual({
      name: 'web1',
      address: '192.0.2.10',
      alias: null,
      local: false,
      hostKey: null,
      ssh: {
        user: 'deploy',
        port: 2222,
        identityFile: path.join(homedir(), '.ssh/id_ed25519'),
        passphraseEnv: 'WIKI_KEY_PASSPHRASE',
        knownHosts: path.resolve(GOOD, 'keys/known_hosts'),
        connectTimeoutMs: 2000,
        sudo: true,
        configFile: null,
        identityFromConfig: false,
        jumpHosts: [],
      },
    });
    expect(hosts.get('web2')).toMatchObject({
      hostKey: 'SHA256:abcdefABCDEF0123456789+/xyz=',
      ssh: { user: 'admin', port: 22, knownHosts: '/etc/ssh/ssh_known_hosts', sudo: true },
    });
  });

  test('lineOf gives the line of a key, or of its nearest ancestor', async () => {
    const inventory = await loadInventory(`${GOOD}/mirrorctl.yaml`);
    expect(inventory.lineOf(['hosts', 'web2', 'address'])).toBe(15);
    expect(inventory.lineOf(['hosts', 'web2', 'ssh', 'user'])).toBe(18);
    expect(inventory.lineOf(['database', 'hosts', 1])).toBe(24);
    expect(inventory.lineOf(['checks', 1, 'hosts'])).toBe(43);
    expect(inventory.lineOf(['database', 'port'])).toBe(23);
  });

  test('a minimal inventory: a local host and a DNS name, SSH defaults', async () => {
    const inventory = await loadInventory(`${GOOD}/minimal.yaml`);
    expect(inventory.doc.database).toBeUndefined();
    expect(inventory.hosts.get('here')).toMatchObject({ local: true, address: null });
    expect(inventory.hosts.get('there')?.ssh).toEqual({
      user: 'root',
      port: 22,
      identityFile: null,
      passphraseEnv: null,
      knownHosts: path.join(homedir(), '.ssh/known_hosts'),
      connectTimeoutMs: 5000,
      sudo: false,
      configFile: null,
      identityFromConfig: false,
      jumpHosts: [],
    });
  });
});

// [fixture, key path (or YAML message), line]
const BAD_INVENTORIES: Array<[string, string, number]> = [
  ['inv-yaml-syntax.yaml', 'Flow map', 6],
  ['inv-tab-indent.yaml', 'Tabs are not allowed', 4],
  ['inv-duplicate-key.yaml', 'Map keys must be unique', 4],
  ['inv-port-string.yaml', 'database.port: expected a number, got string', 7],
  ['inv-unknown-top-key.yaml', 'databse: unknown key', 4],
  ['inv-unknown-ssh-key.yaml', 'ssh.prot: unknown key', 4],
  ['inv-unknown-host-ssh-key.yaml', 'hosts.web1.ssh.identity: unknown key', 7],
  ['inv-password-literal.yaml', 'database.password: unknown key', 8],
  ['inv-env-not-a-name.yaml', 'database.password_env: must be the NAME of an environment variable', 7],
  ['inv-missing-site.yaml', 'site: required', 2],
  ['inv-host-without-address.yaml', 'hosts.web2.address: required', 5],
  ['inv-db-undefined-host.yaml', 'database.hosts[1]: host "web3" is not defined under hosts', 8],
  ['inv-ip-undefined-host.yaml', 'portable_ip.hosts[1]: host "web9" is not defined under hosts', 8],
  ['inv-check-undefined-host.yaml', 'checks[1].hosts[0]: host "web4" is not defined under hosts', 11],
  ['inv-db-three-hosts.yaml', 'database.hosts: must name exactly the two hosts of the pair', 7],
  ['inv-bad-ip.yaml', 'portable_ip.address: must be an IPv4 address with prefix', 6],
  ['inv-bad-host-ip.yaml', 'hosts.web2.address: is not a valid IPv4 address', 5],
  ['inv-hosts-list.yaml', 'hosts: expected a mapping, got a list', 2],
  ['inv-not-a-mapping.yaml', '(top level): expected a mapping, got a list', 1],
  ['inv-several-problems.yaml', 'http.expect_status: expected a number, got string (and 1 more problem)', 6],
  ['inv-files-relative-path.yaml', 'files.paths[0]: must be an absolute path (starting with /), the same on every host (and 1 more problem)', 7],
  ['inv-check-template-quoted.yaml', 'checks[1].run: {{ inventory.site }} is inside double quotes', 9],
  ['inv-check-template-heredoc.yaml', 'checks[0].run: {{ inventory.site }} is inside a here-document', 7],
  ['inv-alias-bomb.yaml', 'too many YAML aliases: expanding them would build a huge document (an alias bomb)', 6],
  ['inv-unresolved-alias.yaml', 'alias *web2 names no anchor defined before it', 4],
];

describe('loadInventory: malformed inventories', () => {
  test.each(BAD_INVENTORIES)('%s → line %i, %s', async (fixture, expected, line) => {
    const file = `${BAD}/${fixture}`;
    const error = await configErrorOf(file);
    expect(error.exitCode).toBe(2);
    expect(error.message.startsWith(`${file}:${line} `)).toBe(true);
    expect(error.message).toContain(expected);
    expect(error.message).not.toContain('\n');
    expect(error.hint).toBeTruthy();
  });

  test('unknown keys get a "did you mean"', async () => {
    expect((await configErrorOf(`${BAD}/inv-unknown-ssh-key.yaml`)).hint).toBe('did you mean `port`?');
    expect((await configErrorOf(`${BAD}/inv-unknown-top-key.yaml`)).hint).toBe('did you mean `database`?');
  });

  test('a literal password is refused without being repeated', async () => {
    const error = await configErrorOf(`${BAD}/inv-password-literal.yaml`);
    expect(error.hint).toContain('password_env');
    expect(error.sentence).not.toContain('hunter2');
    const notAName = await configErrorOf(`${BAD}/inv-env-not-a-name.yaml`);
    expect(notAName.sentence).not.toContain('horse');
  });

  test('a missing file says how to point at the inventory', async () => {
    const error = await configErrorOf(`${BAD}/does-not-exist.yaml`);
    expect(error.message).toBe(`cannot read inventory ${BAD}/does-not-exist.yaml: no such file`);
    expect(error.hint).toMatch(/-c FILE/);
    expect(error.hint).toContain('$MIRRORCTL_CONFIG');
  });

  test('a directory is not an inventory', async () => {
    expect((await configErrorOf(BAD)).message).toBe(`cannot read inventory ${BAD}: it is a directory`);
  });
});
