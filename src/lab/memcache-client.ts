import { connect } from 'node:net';

// A tiny memcached text-protocol client (get/set) for the lab's web app: one
// connection per call, bounded by a timeout.

function exchange(server: string, request: string, isComplete: (reply: string) => boolean, timeoutMs: number): Promise<string> {
  const [host, port] = server.split(':');
  return new Promise((resolve, reject) => {
    const socket = connect({ host: host!, port: Number(port) });
    let reply = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`memcached ${server} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      reply += chunk;
      if (isComplete(reply)) {
        clearTimeout(timer);
        socket.end();
        resolve(reply);
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.write(request);
  });
}

/** The value stored under `key`, or null. */
export async function memcacheGet(server: string, key: string, timeoutMs = 1000): Promise<string | null> {
  const reply = await exchange(server, `get ${key}\r\n`, (r) => r.endsWith('END\r\n') || /ERROR/.test(r), timeoutMs);
  const match = /^VALUE \S+ \d+ (\d+)\r\n/.exec(reply);
  if (!match) {
    if (reply.startsWith('END')) return null;
    throw new Error(`memcached ${server}: ${reply.trim()}`);
  }
  const start = match[0].length;
  return Buffer.from(reply.slice(start)).subarray(0, Number(match[1])).toString('utf8');
}

/** Stores `value` under `key` for `ttlSeconds`. */
export async function memcacheSet(server: string, key: string, value: string, ttlSeconds = 3600, timeoutMs = 1000): Promise<void> {
  const bytes = Buffer.byteLength(value);
  const reply = await exchange(server, `set ${key} 0 ${ttlSeconds} ${bytes}\r\n${value}\r\n`, (r) => r.endsWith('\r\n'), timeoutMs);
  if (!reply.startsWith('STORED')) throw new Error(`memcached ${server}: ${reply.trim()}`);
}
