// One line per host of what init found there, for the operator to check before the file is written.
import type { HostFacts } from './discover-host.js';

export function describeHost(f: HostFacts): string {
  const parts: string[] = [`${f.login.user}${f.login.uid === 0 ? ' (root)' : f.login.sudo ? ' with sudo' : ' without sudo'}`];
  if ('facts' in f.postgres) {
    const pg = f.postgres.facts;
    parts.push(`PostgreSQL ${pg.version} ${pg.role} on port ${pg.port}${pg.running ? '' : ' (not running)'}, data ${pg.dataDir}${pg.unit ? `, unit ${pg.unit}` : ', no service unit'}`);
  } else {
    parts.push(`PostgreSQL: ${f.postgres.problem}`);
  }
  if (f.holdsPortableIp) parts.push(`holds the portable IP on ${f.holdsPortableIp.iface}`);
  else if (f.routeIface) parts.push(`reaches the portable IP on ${f.routeIface}`);
  parts.push(f.memcached.length > 0 ? `memcached ${f.memcached.join(' ')}` : 'no memcached reachable');
  return `${f.name} (${f.address}): ${parts.join('; ')}`;
}
