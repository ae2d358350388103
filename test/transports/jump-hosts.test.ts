// Jump hosts (ProxyJump) through ssh2, against real OpenSSH servers on 127.0.0.1:
// one connection per hop however many hosts are behind it, every hop's host key
// checked, failures told as the failure of the host behind.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HostTrustError, HostUnreachableError } from '../../src/errors.js';
import type { HostEntry, Inventory } from '../../src/inventory/schema.js';
import { fingerprint } from '../../src/transports/host-key.js';
import { connectSsh } from '../../src/transports/ssh.js';
import type { Transport } from '../../src/transports/types.js';
import { freePort, hostEntry, startSshd, type TestSshd } from './sshd.js';

let bastion: TestSshd;
let inner: TestSshd;
let closedBastion: TestSshd;
let target: TestSshd;
let knownHosts: string;
const open: Transport[] = [];

beforeAll(async () => {
  [bastion, inner, closedBastion, target] = await Promise.all([startSshd(), startSshd(), startSshd(['PermitOpen none']), startSshd()]);
  // Every server accepts the same client key (the bastion's), as an operator's one key would be.
  for (const server of [inner, closedBastion, target]) writeFileSync(join(server.dir, 'authorized_keys'), `${bastion.clientKey.publicLine}\n`);
  knownHosts = join(bastion.dir, 'known_hosts');
  writeFileSync(knownHosts, [bastion, inner, closedBastion, target].map((s) => `[127.0.0.1]:${s.port} ${s.hostKeys.ed25519.publicLine}\n`).join(''));
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});
afterAll(async () => {
  await Promise.all([bastion, inner, closedBastion, target].map((s) => s?.stop()));
});

function entry(name: string, port: number, jumpHosts: HostEntry[] = [], ssh: Partial<HostEntry['ssh']> = {}): HostEntry {
  return hostEntry({ port, clientKey: bastion.clientKey }, { name, ssh: { knownHosts, jumpHosts, ...ssh } });
}

function inventoryOf(...hosts: HostEntry[]): Inventory {
  return {
    file: '/test/mirrorctl.yaml',
    dir: '/test',
    doc: { site: 'test', hosts: {} } as Inventory['doc'],
    site: 'test',
    hosts: new Map(hosts.map((h) => [h.name, h])),
    lineOf: () => null,
  };
}

async function connect(host: HostEntry, inventory: Inventory): Promise<Transport> {
  const transport = await connectSsh(host, inventory);
  open.push(transport);
  return transport;
}

async function failure(host: HostEntry): Promise<Error> {
  return connect(host, inventoryOf(host)).then(
    () => new Error('connected, but should have failed'),
    (e: Error) => e,
  );
}

/** Established TCP connections from this process to a local port. */
function connectionsTo(port: number): number {
  const out = execFileSync('ss', ['-Htn', 'state', 'established', 'dst', `127.0.0.1:${port}`], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.trim() !== '').length;
}

describe('through jump hosts', () => {
  it('two hosts behind one bastion: one bastion connection, one login each, closed with the last host', async () => {
    const hop = entry('bastion', bastion.port);
    const web1 = entry('web1', target.port, [hop]);
    const web2 = entry('web2', target.port, [hop], { user: 'root' });
    const inventory = inventoryOf(web1, web2);
    const before = { bastion: bastion.acceptedLogins(), target: target.acceptedLogins() };
    const [one, two] = await Promise.all([connect(web1, inventory), connect(web2, inventory)]);
    expect(await one.exec('echo one')).toMatchObject({ exitCode: 0, stdout: 'one\n' });
    expect(await two.exec('echo two')).toMatchObject({ exitCode: 0, stdout: 'two\n' });
    expect(bastion.acceptedLogins() - before.bastion).toBe(1);
    expect(target.acceptedLogins() - before.target).toBe(2);
    // Only the bastion has a TCP connection from here: the hosts are reached through it.
    expect(connectionsTo(bastion.port)).toBe(1);
    await one.close();
    expect(connectionsTo(bastion.port)).toBe(1);
    expect(await two.exec('echo still')).toMatchObject({ exitCode: 0 });
    await two.close();
    await expect.poll(() => connectionsTo(bastion.port), { timeout: 5000 }).toBe(0);
  });

  it('several hops: each hop is entered through the one before it, once', async () => {
    const hops = [entry('bastion', bastion.port), entry('inner', inner.port)];
    const host = entry('web1', target.port, hops);
    const before = [bastion, inner, target].map((s) => s.acceptedLogins());
    const transport = await connect(host, inventoryOf(host));
    expect(await transport.exec('echo far')).toMatchObject({ exitCode: 0, stdout: 'far\n' });
    expect([bastion, inner, target].map((s, i) => s.acceptedLogins() - before[i]!)).toEqual([1, 1, 1]);
    expect(connectionsTo(bastion.port)).toBe(1);
  });

  it('a command that times out behind a bastion is a timeout, not a lost host (keepalive answers come through the hop)', async () => {
    const host = entry('web1', target.port, [entry('bastion', bastion.port)]);
    const transport = await connect(host, inventoryOf(host));
    const result = await transport.exec('sleep 30', { timeoutMs: 7000 });
    expect(result).toMatchObject({ timedOut: true, exitCode: null });
    expect(transport.alive).toBe(true);
  });

  it('a jump host that refuses to forward: the host behind it is unreachable, named with the jump host', async () => {
    const error = await failure(entry('web1', target.port, [entry('gate', closedBastion.port)]));
    expect(error).toBeInstanceOf(HostUnreachableError);
    expect((error as HostUnreachableError).host).toBe('web1');
    expect(error.message).toMatch(new RegExp(`^web1 \\(127\\.0\\.0\\.1:${target.port}\\) cannot be reached from the jump host: .* \\(through jump host gate \\(127\\.0\\.0\\.1:${closedBastion.port}\\)\\)$`));
  });

  it('nothing listening behind the bastion: unreachable', async () => {
    const port = await freePort();
    const error = await failure(entry('web1', port, [entry('bastion', bastion.port)]));
    expect(error).toBeInstanceOf(HostUnreachableError);
    expect(error.message).toMatch(/cannot be reached from the jump host/);
  });

  it('a jump host whose key is not in its known_hosts is refused, with its fingerprint, as the failure of the host behind', async () => {
    const empty = join(bastion.dir, 'empty_known_hosts');
    writeFileSync(empty, '');
    const error = await failure(entry('web1', target.port, [entry('bastion', bastion.port, [], { knownHosts: empty })]));
    expect(error).toBeInstanceOf(HostTrustError);
    expect((error as HostTrustError).host).toBe('web1');
    expect(error.message).toBe(
      `web1: jump host bastion (127.0.0.1:${bastion.port}): host key is not known (ssh-ed25519 ${fingerprint(bastion.hostKeys.ed25519.blob)}) in ${empty} (jump hosts: bastion)`,
    );
  });

  it('the host behind is checked against its own known_hosts too', async () => {
    const onlyBastion = join(bastion.dir, 'only_bastion');
    writeFileSync(onlyBastion, `[127.0.0.1]:${bastion.port} ${bastion.hostKeys.ed25519.publicLine}\n`);
    const error = await failure(entry('web1', target.port, [entry('bastion', bastion.port)], { knownHosts: onlyBastion }));
    expect(error).toBeInstanceOf(HostTrustError);
    expect(error.message).toMatch(new RegExp(`^web1 \\(127\\.0\\.0\\.1:${target.port} via bastion\\): host key is not known`));
  });

  it('a jump host that does not answer: the host behind is unreachable', async () => {
    const port = await freePort();
    const error = await failure(entry('web1', target.port, [entry('bastion', port)]));
    expect(error).toBeInstanceOf(HostUnreachableError);
    expect(error.message).toMatch(new RegExp(`^web1: jump host bastion \\(127\\.0\\.0\\.1:${port}\\) refused the connection`));
  });
});
