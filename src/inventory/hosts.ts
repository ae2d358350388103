import { homedir } from 'node:os';
import path from 'node:path';
import { SSH_DEFAULTS, type HostEntry, type InventoryDocument } from './schema.js';

// Each host with its SSH settings merged: defaults ← inventory `ssh` ← host `ssh`.

// `~` and `~/x` become the home directory; other relative paths are relative to the inventory.
export function expandPath(file: string, inventoryDir: string): string {
  if (file === '~') return homedir();
  if (file.startsWith('~/')) return path.join(homedir(), file.slice(2));
  return path.resolve(inventoryDir, file);
}

// The HostEntry map, in the inventory's order.
export function buildHosts(doc: InventoryDocument, inventoryDir: string): Map<string, HostEntry> {
  const hosts = new Map<string, HostEntry>();
  for (const [name, host] of Object.entries(doc.hosts)) {
    const ssh = { ...SSH_DEFAULTS, ...doc.ssh, ...host.ssh };
    hosts.set(name, {
      name,
      address: host.address ?? null,
      alias: null,
      local: host.local === true,
      hostKey: host.host_key ?? null,
      ssh: {
        user: ssh.user,
        port: ssh.port,
        identityFile: ssh.identity_file === undefined ? null : expandPath(ssh.identity_file, inventoryDir),
        passphraseEnv: ssh.passphrase_env ?? null,
        knownHosts: expandPath(ssh.known_hosts, inventoryDir),
        connectTimeoutMs: ssh.connect_timeout_ms,
        sudo: ssh.sudo,
        configFile: null,
        identityFromConfig: false,
        jumpHosts: [],
      },
    });
  }
  return hosts;
}

// Whether a host may be judged by ARP (spec 8): never one reached through a jump host or named by an alias.
export function arpShortcutAllowed(host: HostEntry): boolean {
  return !host.local && host.ssh.jumpHosts.length === 0 && host.alias === null;
}
