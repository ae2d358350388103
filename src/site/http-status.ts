// One HTTP GET for http.expect: from the control machine, or through a host's SSH
// connection (a channel forwarded to the URL's host and port, as seen from that host)
// when the site is behind a bastion and the control machine has no way to it.
import type { Duplex } from 'node:stream';
import type { Transport } from '../transports/types.js';

/** The status a GET of `url` answers within `timeoutMs` (redirects not followed); rejects when nothing answers. */
export async function httpStatus(url: string, timeoutMs: number, via: Transport | null): Promise<number> {
  if (!via) {
    // A new connection each time, never a kept-alive one: after the portable IP moved, a
    // pooled connection would still lead to the old holder.
    const { probeRequest } = await import('../probe/request.js');
    const answer = await probeRequest(url, 'read', timeoutMs);
    if (answer.status === null) throw new Error(answer.error ?? 'no answer');
    return answer.status;
  }
  const target = new URL(url);
  const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
  const https = target.protocol === 'https:';
  const port = Number(target.port) || (https ? 443 : 80);
  const signal = AbortSignal.timeout(timeoutMs);
  let stream: Duplex = await via.forward(port, host);
  if (https) {
    const { connect } = await import('node:tls');
    const { isIP } = await import('node:net');
    stream = connect({ socket: stream, servername: isIP(host) ? undefined : host });
  }
  const { request } = await import('node:http');
  const socket = stream;
  return new Promise((resolve, reject) => {
    const req = request({
      host,
      port,
      path: `${target.pathname}${target.search}`,
      headers: { host: target.host, connection: 'close' },
      createConnection: () => socket as never,
      signal,
    });
    req.once('response', (response) => {
      response.resume();
      response.once('end', () => socket.destroy());
      resolve(response.statusCode ?? 0);
    });
    req.once('error', (error) => {
      socket.destroy();
      reject(error);
    });
    req.end();
  });
}

/**
 * True when the control machine has no route to an IPv4 address (`ip route get` fails); false
 * for names. node:child_process, not execa: loading execa costs a dry run more than the call.
 */
export async function noRouteTo(address: string): Promise<boolean> {
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(address)) return false;
  const { execFile } = await import('node:child_process');
  const stderr = await new Promise<string | null>((resolve) => {
    execFile('ip', ['route', 'get', address], { timeout: 5000 }, (error, _stdout, err) => resolve(error ? String(err) : null));
  });
  return stderr !== null && /unreachable|no route/i.test(stderr);
}
