import { ConfigError } from '../errors.js';
import type { Inventory, InventorySection } from './schema.js';

const REQUIRED_KEYS: Record<InventorySection, string> = {
  portable_ip: 'address, and interface there or on each host',
  database: 'hosts',
  memcached: 'servers',
  sessions: 'file, key, read_only and read_write',
  files: 'paths',
  http: 'url',
};

// Throws when a section someone needs (an action, a command) is absent from the inventory.
export function requireSections(inventory: Inventory, sections: readonly InventorySection[], who: string): void {
  for (const section of sections) {
    if (inventory.doc[section] === undefined) {
      throw new ConfigError(`${inventory.file}: section "${section}" is missing; ${who} needs it`, {
        hint: `add a ${section} section (with ${REQUIRED_KEYS[section]}) to ${inventory.file}; see the inventory format in README.md`,
      });
    }
  }
}

// The host a `host:port` server runs on: the one whose address (or name) is that host, else null.
export function hostOfServer(inventory: Inventory, server: string): string | null {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(server);
  const address = bracketed ? bracketed[1]! : server.replace(/:\d+$/, '');
  for (const host of inventory.hosts.values()) {
    if (host.address === address || host.alias === address) return host.name;
  }
  return inventory.hosts.has(address) ? address : null;
}
