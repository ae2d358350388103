// Opens the one SSH connection a run keeps to a host, directly or through its jump
// hosts (OpenSSH ProxyJump).
import { HostUnreachableError } from '../errors.js';
import type { HostEntry, Inventory } from '../inventory/schema.js';
import { openSshClient } from './ssh-client.js';
import { SshTransport } from './ssh-transport.js';
import type { Transport } from './types.js';

/** Connects to a host over SSH, directly or through its jump hosts; rejects with HostUnreachableError or HostTrustError. */
export async function connectSsh(host: HostEntry, inventory: Inventory): Promise<Transport> {
  if (!host.address) throw new HostUnreachableError(host.name, `${host.name}: no address in ${inventory.file}`);
  if (host.ssh.jumpHosts.length === 0) return new SshTransport(host, await openSshClient(host, inventory));
  const { throughJumpHosts } = await import('./jump-hosts.js');
  const { sock, release } = await throughJumpHosts(host, inventory);
  try {
    const client = await openSshClient(host, inventory, sock);
    client.once('close', release);
    return new SshTransport(host, client);
  } catch (error) {
    sock.destroy();
    release();
    throw error;
  }
}
