import { request as httpRequest, type ClientRequest } from 'node:http';
import type { Duplex } from 'node:stream';
import { request as httpsRequest } from 'node:https';

/** One probe request as it happened: when it started (epoch ms), how it ended, how long it took. */
export interface ProbeRecord {
  /** Epoch milliseconds (fractional) when the request started. */
  t: number;
  kind: 'read' | 'write';
  ok: boolean;
  ms: number;
  /** The HTTP status, or null when nothing answered (refused, reset, timed out). */
  status: number | null;
  /** Why it failed: the status, an error code, or "timeout". */
  error?: string;
  /** The JSON body of a 2xx answer, when the caller asked to keep it (the bench's acknowledged writes). */
  body?: unknown;
}

/** Epoch milliseconds with sub-millisecond precision, from the monotonic clock. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * One request on a new connection (no keep-alive agent: a moved IP is seen at once),
 * bounded by `timeoutMs` from start to the end of the body. 2xx in time is success.
 */
export function probeRequest(url: string, kind: 'read' | 'write', timeoutMs: number, options: ProbeRequestOptions = {}): Promise<ProbeRecord> {
  const t = nowMs();
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const finish = (ok: boolean, status: number | null, error?: string, body?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ t, kind, ok, ms: performance.now() - started, status, ...(error ? { error } : {}), ...(body !== undefined ? { body } : {}) });
    };
    const send = url.startsWith('https:') ? httpsRequest : httpRequest;
    let req: ClientRequest | null = null;
    const timer = setTimeout(() => {
      finish(false, null, 'timeout');
      req?.destroy();
    }, timeoutMs);
    const ask = (createConnection?: () => Duplex) => {
      if (settled) return;
      req = send(url, {
          method: kind === 'write' ? 'POST' : 'GET',
          headers: { connection: 'close', 'content-length': '0' },
          // No agent: a new connection per request; node uses createConnection only without one.
          ...(createConnection ? { createConnection: createConnection as never } : { agent: false }),
        }, (res) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => options.keepBody && chunks.push(chunk));
        res.on('error', (e: NodeJS.ErrnoException) => finish(false, status, e.code ?? 'error'));
        res.on('end', () => {
          const ok = status >= 200 && status < 300;
          finish(ok, status, ok ? undefined : `HTTP ${status}`, ok && options.keepBody ? parseJson(Buffer.concat(chunks)) : undefined);
        });
      });
      req.on('error', (e: NodeJS.ErrnoException) => finish(false, null, e.code ?? e.message));
      req.end();
    };
    if (!options.connect) return ask();
    // Through a host's SSH connection: a new forwarded channel per request.
    const target = new URL(url);
    const port = Number(target.port) || (target.protocol === 'https:' ? 443 : 80);
    options.connect(target.hostname.replace(/^\[(.*)\]$/, '$1'), port).then(
      (stream) => (settled ? stream.destroy() : ask(() => stream)),
      (error: Error & { code?: string }) => finish(false, null, error.code ?? 'no channel'),
    );
  });
}

/** How one probe request is made: `connect` opens its stream through a host's SSH connection. */
export interface ProbeRequestOptions {
  keepBody?: boolean;
  connect?: (host: string, port: number) => Promise<Duplex>;
}

/** The body as JSON, or null when it is not. */
function parseJson(buffer: Buffer): unknown {
  try {
    return JSON.parse(buffer.toString('utf8'));
  } catch {
    return null;
  }
}
