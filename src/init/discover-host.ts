// What one host tells about itself over SSH: its addresses, the route to the
// portable IP, its listening sockets (PostgreSQL, memcached), its sessions file.
import { sh } from '../transports/quote.js';
import type { Transport } from '../transports/types.js';
import { discoverPostgres, type PostgresFinding } from './discover-postgres.js';
import { isLoopback, listensOnAll, parseIpAddr, parseListening, parseRouteGet, sessionSettings, type InterfaceAddress } from './parse.js';
import { rootShell, type RootShell } from './root-shell.js';

export interface HostFacts {
  name: string;
  address: string;
  login: RootShell['login'];
  addresses: InterfaceAddress[];
  /** The interface holding the portable IP, when this host holds it. */
  holdsPortableIp: InterfaceAddress | null;
  /** The interface `ip route get PORTABLE_IP` names (null: none, or the host holds it). */
  routeIface: string | null;
  postgres: PostgresFinding;
  /** host:port of the memcached servers listening on this host. */
  memcached: string[];
  /** memcached servers that listen on loopback only (the control machine cannot reach them). */
  memcachedLoopback: string[];
  /** The sessions file's `key = value` lines whose key mentions "session"; null when unread. */
  sessionLines: Array<{ key: string; value: string }> | null;
  /** Files under /etc that look like they hold a session backend setting. */
  sessionCandidates: string[];
}

export interface DiscoverRequest {
  name: string;
  address: string;
  /** Without prefix; null when not known yet. */
  portableIp: string | null;
  dbPort: number | undefined;
  sessionsFile: string | null;
}

/** The sessions file's `key = value` lines whose key mentions "session" (null: unreadable). */
export async function readSessionLines(transport: Transport, file: string): Promise<HostFacts['sessionLines']> {
  const result = await (await rootShell(transport)).run(sh`cat ${file}`);
  return result.exitCode === 0 ? sessionSettings(result.stdout) : null;
}

/** Asks one host everything init wants to know; a command that fails leaves its part unknown. */
export async function discoverHost(transport: Transport, request: DiscoverRequest): Promise<HostFacts> {
  const shell = await rootShell(transport);
  const [addr, route, listening, sessions, candidates] = await Promise.all([
    shell.run('ip -o -4 addr show'),
    request.portableIp ? shell.run(sh`ip -o route get ${request.portableIp}`) : null,
    shell.run('ss -Hltnp'),
    request.sessionsFile ? shell.run(sh`cat ${request.sessionsFile}`) : null,
    shell.run(
      `timeout 10 grep -rIlsE --include='*.ini' --include='*.conf' --include='*.cfg' --include='*.env' '^[[:space:]]*[A-Za-z0-9_.-]*session[A-Za-z0-9_.-]*[[:space:]]*=' /etc 2>/dev/null | head -n 20; true`,
    ),
  ]);
  const addresses = parseIpAddr(addr.stdout);
  const sockets = parseListening(listening.stdout);
  const memcached = sockets.filter((s) => s.processes.some((p) => p.name === 'memcached'));
  const reachable = memcached.filter((s) => !isLoopback(s.address));
  const serverOf = (address: string, port: number) => `${listensOnAll(address) ? request.address : address.replace(/^\[|\]$/g, '')}:${port}`;
  return {
    name: request.name,
    address: request.address,
    login: shell.login,
    addresses,
    holdsPortableIp: request.portableIp ? (addresses.find((a) => a.address === request.portableIp) ?? null) : null,
    routeIface: route && route.exitCode === 0 ? parseRouteGet(route.stdout).iface : null,
    postgres: await discoverPostgres(shell, sockets, request.dbPort),
    memcached: [...new Set(reachable.map((s) => serverOf(s.address, s.port)))],
    memcachedLoopback: memcached.filter((s) => isLoopback(s.address)).map((s) => `${s.address}:${s.port}`),
    sessionLines: sessions && sessions.exitCode === 0 ? sessionSettings(sessions.stdout) : null,
    sessionCandidates: candidates.stdout.split('\n').filter((l) => l.startsWith('/')),
  };
}
