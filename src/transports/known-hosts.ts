// OpenSSH known_hosts: plain, hashed (|1|salt|hash), [host]:port, comma lists,
// wildcards and negations. ssh2 has no known_hosts support of its own.
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface KnownHostEntry {
  /** `@revoked`, `@cert-authority`, or null for an ordinary line. */
  marker: 'revoked' | 'cert-authority' | null;
  /** The host field: a comma list of patterns, or one `|1|salt|hash`. */
  hosts: string;
  type: string;
  key: Buffer;
  line: number;
}

/** Parses a known_hosts file; comments, blank and malformed lines are skipped. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === undefined || fields[0] === '' || fields[0].startsWith('#')) return;
    let marker: KnownHostEntry['marker'] = null;
    if (fields[0].startsWith('@')) {
      const name = fields.shift()!;
      if (name === '@revoked') marker = 'revoked';
      else if (name === '@cert-authority') marker = 'cert-authority';
      else return; // an unknown marker: ignore the line, as OpenSSH does
    }
    const [hosts, type, base64] = fields;
    if (!hosts || !type || !base64 || !/^[A-Za-z0-9+/]+=*$/.test(base64)) return;
    const key = Buffer.from(base64, 'base64');
    if (key.length === 0) return;
    entries.push({ marker, hosts, type, key, line: index + 1 });
  });
  return entries;
}

/** The name OpenSSH looks up for a host: `address` on port 22, else `[address]:port`. */
export function knownHostsName(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

/** The keys recorded for a host (ordinary lines only: never @revoked or @cert-authority). */
export function keysFor(entries: KnownHostEntry[], address: string, port: number): Array<{ type: string; key: Buffer }> {
  const name = knownHostsName(address, port);
  return entries.filter((e) => e.marker === null && hostMatches(e.hosts, name)).map(({ type, key }) => ({ type, key }));
}

/** The @revoked keys that apply to a host; a server offering one of them must be refused. */
export function revokedFor(entries: KnownHostEntry[], address: string, port: number): Buffer[] {
  const name = knownHostsName(address, port);
  return entries.filter((e) => e.marker === 'revoked' && hostMatches(e.hosts, name)).map((e) => e.key);
}

/** Whether a known_hosts host field names `name` (hashed, or a pattern list with `!` negations). */
export function hostMatches(hosts: string, name: string): boolean {
  if (hosts.startsWith('|1|')) return hashedMatches(hosts, name);
  let matched = false;
  for (const pattern of hosts.split(',')) {
    if (pattern.startsWith('!')) {
      if (globMatches(pattern.slice(1), name)) return false;
    } else if (globMatches(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

function hashedMatches(field: string, name: string): boolean {
  const [, , salt, hash] = field.split('|');
  if (!salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

// OpenSSH patterns: `*` any run, `?` one character, case-insensitive.
function globMatches(pattern: string, name: string): boolean {
  if (pattern === '') return false;
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`, 'i').test(name);
}
