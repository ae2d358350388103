import { BlockedError, ConfigError } from '../errors.js';
import type { Inventory } from '../inventory/schema.js';
import type { SiteRoles } from './roles.js';

export interface Pair {
  to: string;
  from: string;
}

/** The database pair of the inventory, or a usage error. */
export function databasePair(inventory: Inventory): [string, string] {
  const hosts = inventory.doc.database?.hosts;
  if (!hosts) throw new ConfigError(`${inventory.file}: section "database" is missing; failover, switchover and rejoin need database.hosts`, { hint: 'add the database section (see README)' });
  return [hosts[0]!, hosts[1]!];
}

/** A host named on the command line must be in the inventory (exit 2) and in database.hosts. */
export function requireDatabaseHost(inventory: Inventory, name: string, flag: string): void {
  if (!inventory.hosts.has(name)) throw new ConfigError(`${flag} ${name}: no such host in ${inventory.file}`, { hint: `hosts are: ${[...inventory.hosts.keys()].join(', ')}` });
  if (!databasePair(inventory).includes(name)) throw new ConfigError(`${flag} ${name}: not one of database.hosts (${databasePair(inventory).join(', ')})`, { hint: 'name a host of the database pair' });
}

/** What discovery found, for messages: "web1 primary, web2 unreachable". */
export function describeRoles(roles: SiteRoles): string {
  const parts = [
    ...roles.primaries.map((h) => `${h} primary`),
    ...roles.replicas.map((h) => `${h} replica`),
    ...roles.down.map((h) => `${h} database down`),
    ...roles.unreachable.map((h) => `${h} unreachable`),
  ];
  return parts.join(', ') || 'nothing';
}

/** Spec section 2: `to` is --to, else the single reachable replica; `from` is the other member. */
export function chooseTarget(inventory: Inventory, roles: SiteRoles, requested: string | undefined, command: string): Pair {
  const [a, b] = databasePair(inventory);
  const other = (h: string) => (h === a ? b : a);
  if (roles.primaries.length > 1) {
    throw new BlockedError(`two database primaries (${roles.primaries.join(', ')}): the site is split`, {
      hint: `make the one that should follow a replica with \`mirrorctl rejoin HOST\` first, then run ${command} again`,
    });
  }
  if (requested) {
    requireDatabaseHost(inventory, requested, '--to');
    if (roles.unreachable.includes(requested)) {
      throw new BlockedError(`--to ${requested}: the host does not answer (found ${describeRoles(roles)})`, { hint: 'bring it back or pick the other host' });
    }
    if (roles.down.includes(requested)) {
      throw new BlockedError(`--to ${requested}: its database is not running (found ${describeRoles(roles)})`, { hint: 'start its database first, or pick the other host' });
    }
    return { to: requested, from: other(requested) };
  }
  if (roles.replicas.length === 1) return { to: roles.replicas[0]!, from: other(roles.replicas[0]!) };
  const found = describeRoles(roles);
  if (roles.replicas.length === 0) {
    throw new BlockedError(`no reachable replica to move the site to (found ${found})`, { hint: `name the target with --to HOST (e.g. --to ${roles.primaries[0] ?? a} to resume a half-finished run)` });
  }
  throw new BlockedError(`two replicas and no primary: cannot tell which host should serve the site (found ${found})`, { hint: 'name the target with --to HOST' });
}
