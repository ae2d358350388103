import { ConfigError, HostUnreachableError } from '../errors.js';
import type { Inventory } from '../inventory/schema.js';
import type { HostPool } from '../transports/pool.js';
import { databaseState, type DatabaseState } from './database-state.js';

/** Who is what among `database.hosts`, as the hosts themselves say (spec section 2). */
export interface SiteRoles {
  primaries: string[];
  replicas: string[];
  /** Hosts that answer over SSH whose PostgreSQL does not. */
  down: string[];
  /** Hosts whose SSH connection failed. */
  unreachable: string[];
  states: Map<string, DatabaseState>;
}

/** Asks every database host in parallel; a host key or authentication problem is rethrown, never "unreachable". */
export async function discoverRoles(pool: HostPool, inventory: Inventory): Promise<SiteRoles> {
  const database = inventory.doc.database;
  if (!database) throw new ConfigError(`${inventory.file} has no database section`, { hint: 'add database: (spec section 5)' });
  const answers = await Promise.all(
    database.hosts.map(async (host) => {
      try {
        return { host, state: await databaseState(pool, inventory, host) };
      } catch (error) {
        if (error instanceof HostUnreachableError) return { host, state: null };
        throw error;
      }
    }),
  );
  const roles: SiteRoles = { primaries: [], replicas: [], down: [], unreachable: [], states: new Map() };
  for (const { host, state } of answers) {
    if (!state) {
      roles.unreachable.push(host);
      continue;
    }
    roles.states.set(host, state);
    if (state.role === 'primary') roles.primaries.push(host);
    else if (state.role === 'replica') roles.replicas.push(host);
    else roles.down.push(host);
  }
  return roles;
}
