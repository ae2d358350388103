import { request as httpRequest } from 'node:http';
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
export function probeRequest(url: string, kind: 'read' | 'write', timeoutMs: number, options: { keepBody?: boolean } = {}): Promise<ProbeRecord> {
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
    const req = send(url, { method: kind === 'write' ? 'POST' : 'GET', agent: false, headers: { connection: 'close', 'content-length': '0' } }, (res) => {
      const status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => options.keepBody && chunks.push(chunk));
      res.on('error', (e: NodeJS.ErrnoException) => finish(false, status, e.code ?? 'error'));
      res.on('end', () => {
        const ok = status >= 200 && status < 300;
        finish(ok, status, ok ? undefined : `HTTP ${status}`, ok && options.keepBody ? parseJson(Buffer.concat(chunks)) : undefined);
      });
    });
    const timer = setTimeout(() => {
      finish(false, null, 'timeout');
      req.destroy();
    }, timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => finish(false, null, e.code ?? e.message));
    req.end();
  });
}

/** The body as JSON, or null when it is not. */
function parseJson(buffer: Buffer): unknown {
  try {
    return JSON.parse(buffer.toString('utf8'));
  } catch {
    return null;
  }
}
