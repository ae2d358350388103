import type { Inventory } from '../inventory/schema.js';
import type { HostPool } from '../transports/pool.js';
import { HostUnreachableError, MirrorError } from '../errors.js';
import { sh } from '../transports/quote.js';
import { findKey } from './ini-line.js';
import { hasAddress } from './portable-ip.js';
import { databaseState, type DatabaseState } from './database-state.js';
import { lsnDiff } from './lsn.js';
import { memcachedState } from './memcached.js';

export interface HostStatus {
  name: string;
  reachable: boolean;
  holds_ip: boolean | null;
  db: { role: 'primary' | 'replica' | 'down' | 'unknown'; lag_bytes: number | null };
  sessions: 'read-only' | 'read-write' | 'unknown';
}

export interface SiteStatus {
  site: string;
  served_by: string | null;
  warnings: string[];
  hosts: HostStatus[];
  memcached: Array<{ server: string; up: boolean; items: number | null }>;
}

/** The site as it is: every host and memcached server asked in parallel (spec section 4). */
export async function siteStatus(pool: HostPool, inventory: Inventory): Promise<SiteStatus> {
  const names = [...inventory.hosts.keys()];
  const servers = inventory.doc.memcached?.servers ?? [];
  const [probes, memcached] = await Promise.all([
    Promise.all(names.map((name) => probeHost(pool, inventory, name))),
    Promise.all(servers.map((server) => memcachedState(server, 1000))),
  ]);
  const primary = probes.find((p) => p.state?.role === 'primary')?.state ?? null;
  const hosts = probes.map((p) => toHostStatus(p, primary));
  const holders = hosts.filter((h) => h.holds_ip).map((h) => h.name);
  return {
    site: inventory.site,
    served_by: holders.length === 1 ? holders[0]! : null,
    warnings: [...probes.flatMap((p) => (p.distrust ? [p.distrust] : [])), ...splitWarnings(hosts, inventory)],
    hosts,
    memcached: memcached.map((m) => ({ server: m.server, up: m.up, items: m.items })),
  };
}

interface Probe {
  name: string;
  reachable: boolean;
  holdsIp: boolean | null;
  sessions: HostStatus['sessions'];
  state: DatabaseState | null;
  distrust?: string;
}

async function probeHost(pool: HostPool, inventory: Inventory, name: string): Promise<Probe> {
  const unknown: Probe = { name, reachable: false, holdsIp: null, sessions: 'unknown', state: null };
  try {
    const host = await pool.get(name);
    const isDbHost = inventory.doc.database?.hosts.includes(name) ?? false;
    const [facts, state] = await Promise.all([
      host.exec(factsScript(inventory), { timeoutMs: 5000 }),
      isDbHost ? databaseState(pool, inventory, name).catch(() => null) : Promise.resolve(null),
    ]);
    return { name, reachable: true, ...parseFacts(facts.stdout, inventory), state };
  } catch (error) {
    if (error instanceof HostUnreachableError) return unknown;
    // Answers but cannot be trusted (host key, authentication): reported, never used.
    return { ...unknown, distrust: error instanceof MirrorError ? error.message : String(error) };
  }
}

/** One command per host: does it hold the portable IP, and what does the sessions file say. */
function factsScript(inventory: Inventory): string {
  const ip = inventory.doc.portable_ip;
  const sessions = inventory.doc.sessions;
  // Every interface, any prefix length: the address counts wherever it is (spec section 4).
  const ipPart = ip ? 'ip -o -4 addr show 2>/dev/null || echo ip=unknown' : 'echo ip=none';
  const filePart = sessions ? sh`echo ---; cat ${sessions.file} 2>/dev/null` : 'echo ---';
  return `${ipPart}; ${filePart}`;
}

function parseFacts(stdout: string, inventory: Inventory): Pick<Probe, 'holdsIp' | 'sessions'> {
  const [head, ...rest] = stdout.split('---\n');
  const address = inventory.doc.portable_ip?.address.split('/')[0];
  const holdsIp = !address || !head || /^ip=(none|unknown)$/m.test(head) ? null : hasAddress(head, address);
  const sessions = inventory.doc.sessions;
  let mode: HostStatus['sessions'] = 'unknown';
  if (sessions) {
    const line = findKey(rest.join('---\n'), sessions.key);
    if (line.found === 'one') mode = line.value === sessions.read_only ? 'read-only' : line.value === sessions.read_write ? 'read-write' : 'unknown';
  }
  return { holdsIp, sessions: mode };
}

function toHostStatus(p: Probe, primary: DatabaseState | null): HostStatus {
  if (!p.reachable) return { name: p.name, reachable: false, holds_ip: null, db: { role: 'unknown', lag_bytes: null }, sessions: 'unknown' };
  const role = p.state?.role ?? 'unknown';
  let lag: number | null = null;
  if (p.state?.role === 'replica' && p.state.replayLsn) {
    const ahead = primary?.currentLsn ?? p.state.receiveLsn;
    if (ahead) lag = Math.max(0, Number(lsnDiff(ahead, p.state.replayLsn)));
  }
  return { name: p.name, reachable: true, holds_ip: p.holdsIp, db: { role, lag_bytes: lag }, sessions: p.sessions };
}

function splitWarnings(hosts: HostStatus[], inventory: Inventory): string[] {
  const warnings: string[] = [];
  const primaries = hosts.filter((h) => h.db.role === 'primary').map((h) => h.name);
  const holders = hosts.filter((h) => h.holds_ip).map((h) => h.name);
  if (primaries.length > 1) warnings.push(`split site: two database primaries (${primaries.join(', ')}); run \`mirrorctl rejoin HOST\` on the one that should follow`);
  if (holders.length > 1) warnings.push(`split site: the portable IP ${inventory.doc.portable_ip?.address} is on ${holders.join(' and ')}; the next ip move releases it everywhere but the target`);
  for (const h of holders) {
    const host = hosts.find((x) => x.name === h)!;
    if (inventory.doc.database && host.db.role !== 'primary' && primaries.length > 0) {
      warnings.push(`the portable IP is on ${h}, whose database is ${host.db.role}, not the primary (${primaries.join(', ')})`);
    }
  }
  return warnings;
}
