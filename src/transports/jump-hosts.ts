// Jump hosts (OpenSSH ProxyJump) through ssh2: each hop is an SSH connection of its
// own, its host key verified like any host's, opened over a channel that the hop
// before it forwards (`forwardOut`, what `ssh -W` does). One connection per hop per
// run: hosts behind the same hops share them, and a hop is closed when the last
// connection through it closes.
import type { Duplex } from 'node:stream';
import type { Client } from 'ssh2';
import { HostTrustError, HostUnreachableError } from '../errors.js';
import type { HostEntry, Inventory } from '../inventory/schema.js';
import { hostLabel } from './host-key.js';
import { openSshClient } from './ssh-client.js';

interface HopConnection {
  client: Promise<Client>;
  users: number;
}

interface Lease {
  client: Client;
  release(): void;
}

// The hop connections of a run, by chain (the inventory lives exactly as long as a run).
const hopsByInventory = new WeakMap<Inventory, Map<string, HopConnection>>();

/** A stream to the host's SSH port through its jump hosts; `release` when the host's connection is gone. */
export async function throughJumpHosts(host: HostEntry, inventory: Inventory): Promise<{ sock: Duplex; release: () => void }> {
  const chain = host.ssh.jumpHosts;
  const last = await lease(inventory, chain, chain.length).catch((error: unknown) => {
    throw behind(host, error);
  });
  try {
    return { sock: await forwardTo(last.client, host, chain.at(-1)!), release: last.release };
  } catch (error) {
    last.release();
    throw error;
  }
}

/** The connection to hop `n` of the chain (1-based), shared by everything behind it. */
async function lease(inventory: Inventory, chain: HostEntry[], n: number): Promise<Lease> {
  let hops = hopsByInventory.get(inventory);
  if (!hops) hopsByInventory.set(inventory, (hops = new Map()));
  const key = chain.slice(0, n).map((hop) => `${hop.ssh.user}@${hop.address}:${hop.ssh.port}`).join(' > ');
  let hop = hops.get(key);
  if (!hop) {
    const opened: HopConnection = { client: connectHop(inventory, chain, n), users: 0 };
    hops.set(key, (hop = opened));
    const forget = () => {
      if (hops.get(key) === opened) hops.delete(key);
    };
    // A failed hop is asked again by the next host that needs it; a lost one too. A hop
    // connection that fails is torn down at once, taking the channels through it along.
    opened.client.then((client) => {
      client.once('close', forget);
      client.on('error', () => client.destroy());
    }, forget);
  }
  hop.users += 1;
  let client: Client;
  try {
    client = await hop.client;
  } catch (error) {
    hop.users -= 1;
    throw error;
  }
  const held = hop;
  let released = false;
  return {
    client,
    release() {
      if (released) return;
      released = true;
      held.users -= 1;
      if (held.users > 0) return;
      if (hops.get(key) === held) hops.delete(key);
      client.end();
    },
  };
}

/** Opens hop `n`: over TCP for the first, else through a channel of the hop before it. */
async function connectHop(inventory: Inventory, chain: HostEntry[], n: number): Promise<Client> {
  const hop = chain[n - 1]!;
  if (n === 1) return openSshClient(hop, inventory);
  const previous = await lease(inventory, chain, n - 1);
  let sock: Duplex | null = null;
  try {
    sock = await forwardTo(previous.client, hop, chain[n - 2]!);
    const client = await openSshClient(hop, inventory, sock);
    client.once('close', previous.release);
    return client;
  } catch (error) {
    sock?.destroy();
    previous.release();
    throw error;
  }
}

/**
 * A channel from `via` to the target's SSH port, bounded by the target's connect timeout
 * (until its SSH banner arrives), like a direct TCP connect: only this decides "unreachable".
 */
function forwardTo(client: Client, target: HostEntry, via: HostEntry): Promise<Duplex> {
  const label = `${target.name} (${target.address}:${target.ssh.port})`;
  const timeoutMs = target.ssh.connectTimeoutMs;
  const unreachable = (what: string, cause?: unknown) =>
    new HostUnreachableError(target.name, `${label} ${what} (through jump host ${hostLabel(via)})`, {
      hint: 'check the host is up and that the jump host can reach it (when it is the target, --to picks another)',
      cause,
    });
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (error: Error | null, channel?: Duplex) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        channel?.destroy();
        reject(error);
      } else resolve(channel!);
    };
    const timer = setTimeout(() => settle(unreachable(`did not answer within ${timeoutMs} ms`)), timeoutMs);
    client.forwardOut('127.0.0.1', 0, target.address ?? '', target.ssh.port, (error, channel) => {
      if (error) return settle(unreachable(`cannot be reached from the jump host: ${error.message}`, error));
      if (settled) return void channel.destroy();
      channel.once('readable', () => settle(null, channel));
      channel.once('close', () => settle(unreachable('closed the connection before the SSH banner'), channel));
    });
  });
}

/** A hop's failure, told as the failure of the host behind it (the run decides per inventory host). */
function behind(host: HostEntry, error: unknown): unknown {
  if (!(error instanceof HostUnreachableError) && !(error instanceof HostTrustError)) return error;
  const Kind = error instanceof HostUnreachableError ? HostUnreachableError : HostTrustError;
  const hops = host.ssh.jumpHosts.map((hop) => hop.name).join(', ');
  return new Kind(host.name, `${host.name}: jump host ${error.message} (jump hosts: ${hops})`, { hint: error.hint, cause: error });
}
