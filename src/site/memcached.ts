import { connect } from 'node:net';

// memcached seen from the control machine, over its text protocol.
//
// Why a tiny client of our own instead of memjs: memjs speaks the binary protocol,
// logs with console.log (it would break --json stdout), retries and reconnects by
// itself, reports a refused flush (a server started with -F) as "authentication
// failed", and its next call on that client can hang. Here every call is one
// short-lived connection with its own timeout, and memcached's own words
// ("CLIENT_ERROR flush_all not allowed") reach the operator.

const DEFAULT_TIMEOUT_MS = 2000;

export interface MemcachedServerState {
  server: string;
  up: boolean;
  items: number | null;
  /** `stats settings` → flush_enabled; null when down or not reported (old servers always allow flushes). */
  flushEnabled: boolean | null;
}

/** Sends `request` on a fresh connection and resolves with the reply once `complete` says it is whole. */
export function exchange(server: string, request: string, complete: (reply: string) => boolean, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
  const { host, port } = splitServer(server);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let reply = '';
    const finish = (error: Error | null) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(reply);
    };
    const timer = setTimeout(() => finish(new Error(`memcached ${server} did not answer within ${timeoutMs} ms`)), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      reply += chunk;
      if (complete(reply) || /^(ERROR|CLIENT_ERROR|SERVER_ERROR)\b.*\r\n$/m.test(reply)) finish(null);
    });
    socket.on('error', (error) => finish(new Error(`memcached ${server}: ${error.message}`)));
    socket.on('close', () => finish(new Error(`memcached ${server} closed the connection`)));
    socket.write(request);
  });
}

/** Items and flush setting: `stats` and `stats settings` on one short connection; never rejects. */
export async function memcachedState(server: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<MemcachedServerState> {
  try {
    const reply = await exchange(server, 'stats\r\nstats settings\r\n', (r) => (r.match(/^END\r$/gm) ?? []).length >= 2, timeoutMs);
    const stats = parseStats(reply);
    const items = stats.get('curr_items');
    const flush = stats.get('flush_enabled');
    return { server, up: true, items: items === undefined ? null : Number(items), flushEnabled: flush === undefined ? null : flush === 'yes' };
  } catch {
    return { server, up: false, items: null, flushEnabled: null };
  }
}

/** `STAT name value` lines as a map. */
export function parseStats(reply: string): Map<string, string> {
  const stats = new Map<string, string>();
  for (const line of reply.split('\r\n')) {
    const match = /^STAT (\S+) (.*)$/.exec(line);
    if (match) stats.set(match[1]!, match[2]!);
  }
  return stats;
}

/** `flush_all`: resolves when the server says OK, rejects with its own words otherwise. */
export async function flushAll(server: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
  const reply = await exchange(server, 'flush_all\r\n', (r) => r.endsWith('\r\n'), timeoutMs);
  if (reply.trim() !== 'OK') throw new Error(`memcached ${server} refused flush_all: ${reply.trim()}`);
}

/** `set` of a short value. */
export async function setKey(server: string, key: string, value: string, ttlSeconds: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
  const request = `set ${key} 0 ${ttlSeconds} ${Buffer.byteLength(value)}\r\n${value}\r\n`;
  const reply = await exchange(server, request, (r) => r.endsWith('\r\n'), timeoutMs);
  if (reply.trim() !== 'STORED') throw new Error(`memcached ${server} did not store ${key}: ${reply.trim()}`);
}

/** Whether `key` is present. */
export async function hasKey(server: string, key: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<boolean> {
  const reply = await exchange(server, `get ${key}\r\n`, (r) => /^END\r$/m.test(r), timeoutMs);
  if (/^(ERROR|CLIENT_ERROR|SERVER_ERROR)/m.test(reply)) throw new Error(`memcached ${server}: ${reply.trim()}`);
  return reply.startsWith('VALUE ');
}

function splitServer(server: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(server);
  if (bracketed) return { host: bracketed[1]!, port: Number(bracketed[2]) };
  const at = server.lastIndexOf(':');
  return { host: server.slice(0, at), port: Number(server.slice(at + 1)) };
}
