// What the hosts' own tools print, read into facts: `ip -o addr`, `ip -o route get`,
// `ss -Hltnp`, /proc/PID/cgroup, pg_lsclusters, primary_conninfo. Pure functions.

/** One IPv4 address on an interface, as `ip -o -4 addr show` lists it. */
export interface InterfaceAddress {
  iface: string;
  /** "10.0.0.11/24" */
  cidr: string;
  address: string;
  prefix: number;
}

/** `ip -o -4 addr show`: "2: ens3    inet 10.0.0.11/24 brd ... scope global ens3\ ...". */
export function parseIpAddr(text: string): InterfaceAddress[] {
  const found: InterfaceAddress[] = [];
  for (const line of text.split('\n')) {
    const match = /^\d+:\s+(\S+?)(?:@\S+)?\s+inet\s+(\d+\.\d+\.\d+\.\d+)\/(\d+)/.exec(line);
    if (match) found.push({ iface: match[1]!, cidr: `${match[2]}/${match[3]}`, address: match[2]!, prefix: Number(match[3]) });
  }
  return found;
}

/** `ip -o route get ADDR`: the interface the host would send to ADDR from (`dev X`), null for a local address or none. */
export function parseRouteGet(text: string): { iface: string | null; local: boolean; via: string | null } {
  const first = text.trim().split('\n')[0] ?? '';
  const dev = /\bdev\s+(\S+)/.exec(first)?.[1] ?? null;
  const via = /\bvia\s+(\S+)/.exec(first)?.[1] ?? null;
  const local = /^local\s/.test(first);
  return { iface: local ? null : dev, local, via };
}

/** One listening TCP socket and the processes holding it (`ss -Hltnp`). */
export interface ListeningSocket {
  /** As ss prints it: "10.0.0.11", "0.0.0.0", "*", "[::]", "127.0.0.1". */
  address: string;
  port: number;
  processes: Array<{ name: string; pid: number }>;
}

/** `ss -Hltnp` lines: "LISTEN 0 128 10.0.0.11:5433 0.0.0.0:* users:(("postgres",pid=42,fd=5))". */
export function parseListening(text: string): ListeningSocket[] {
  const sockets: ListeningSocket[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields[0] !== 'LISTEN' || !fields[3]) continue;
    const local = fields[3];
    const colon = local.lastIndexOf(':');
    const port = Number(local.slice(colon + 1));
    if (colon <= 0 || !Number.isInteger(port)) continue;
    const address = local.slice(0, colon).replace(/%\S+$/, '');
    const processes = [...line.matchAll(/\("([^"]+)",pid=(\d+)/g)].map((m) => ({ name: m[1]!, pid: Number(m[2]) }));
    sockets.push({ address, port, processes });
  }
  return sockets;
}

/** True for a listening address that accepts connections on every address of the host. */
export function listensOnAll(address: string): boolean {
  return address === '0.0.0.0' || address === '*' || address === '[::]' || address === '::';
}

/** True for a loopback-only listening address. */
export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '[::1]' || address === '::1';
}

/** The systemd unit a process runs in, from /proc/PID/cgroup (cgroup v2 `0::/system.slice/x.service`, or v1 `name=systemd:`). */
export function serviceUnitOf(cgroupText: string): string | null {
  for (const line of cgroupText.split('\n')) {
    const [, controllers, path] = /^\d+:([^:]*):(.*)$/.exec(line.trim()) ?? [];
    if (path === undefined || !(controllers === '' || controllers === 'name=systemd')) continue;
    const unit = path.split('/').reverse().find((part) => part.endsWith('.service'));
    if (unit) return unit;
  }
  return null;
}

/** A cluster `pg_lsclusters -h` lists: "15 main 5432 online postgres /var/lib/postgresql/15/main /var/log/...". */
export interface ListedCluster {
  version: string;
  name: string;
  port: number;
  online: boolean;
  owner: string;
  dataDir: string;
}

export function parseLsClusters(text: string): ListedCluster[] {
  const clusters: ListedCluster[] = [];
  for (const line of text.split('\n')) {
    const [version, name, port, status, owner, dataDir] = line.trim().split(/\s+/);
    if (!version || !name || !dataDir || !/^\d+$/.test(port ?? '')) continue;
    clusters.push({ version, name, port: Number(port), online: (status ?? '').startsWith('online'), owner: owner ?? 'postgres', dataDir });
  }
  return clusters;
}

/**
 * The `user=` of a replica's primary_conninfo setting line, never anything else of it
 * (the line may hold a password). Handles `user=x`, `user='x'`, and URIs `postgresql://x@host`.
 */
export function conninfoUser(settingLines: string): string | null {
  for (const line of settingLines.split('\n')) {
    const value = /^\s*primary_conninfo\s*=?\s*'(.*)'\s*(?:#.*)?$/.exec(line)?.[1]?.replace(/''/g, "'");
    if (value === undefined) continue;
    const keyword = /(?:^|\s)user\s*=\s*(?:'((?:[^'\\]|\\.)*)'|(\S+))/.exec(value);
    if (keyword) return (keyword[1] ?? keyword[2] ?? '').replace(/\\(.)/g, '$1') || null;
    const uri = /^postgres(?:ql)?:\/\/([^:@/]+)(?::[^@/]*)?@/.exec(value);
    if (uri) return decodeURIComponent(uri[1]!);
  }
  return null;
}

/** `key = value` lines of an ini-like file whose key mentions "session" (comments skipped). */
export function sessionSettings(text: string): Array<{ key: string; value: string }> {
  const found: Array<{ key: string; value: string }> = [];
  for (const line of text.split('\n')) {
    if (/^\s*[#;]/.test(line)) continue;
    const match = /^\s*([A-Za-z0-9_.\-]*session[A-Za-z0-9_.\-]*)\s*=\s*(.*?)\s*(?:[#;].*)?$/i.exec(line);
    if (match) found.push({ key: match[1]!, value: match[2]!.replace(/^(["'])(.*)\1$/, '$2') });
  }
  return found;
}

/** The authentication methods of pg_hba.conf's `host*` lines (what a TCP connection, as mirrorctl's, meets). */
export function tcpAuthMethods(hbaText: string): string[] {
  const methods = new Set<string>();
  for (const line of hbaText.split('\n')) {
    const fields = line.replace(/#.*/, '').trim().split(/\s+/);
    if (!fields[0]?.startsWith('host') || fields.length < 5) continue;
    // host DATABASE USER ADDRESS METHOD, or host DATABASE USER IP MASK METHOD
    const method = /^\d+\.\d+\.\d+\.\d+$/.test(fields[4] ?? '') ? fields[5] : fields[4];
    if (method) methods.add(method);
  }
  return [...methods];
}
