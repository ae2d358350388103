import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoop } from '../../src/probe/loop.js';
import { probeRequest } from '../../src/probe/request.js';

// The probe's requests against a real local HTTP server: one at a time, a new connection
// each, POST for writes, 2xx within the timeout is success and anything else a failure.

let server: Server;
let base = '';
let connections = 0;
let inFlight = 0;
let maxInFlight = 0;
const methods: string[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    methods.push(request.method ?? '');
    const finish = (status: number) => {
      inFlight -= 1;
      response.writeHead(status, { 'content-type': 'application/json' }).end('{"n":1}');
    };
    if (request.url === '/slow') setTimeout(() => finish(200), 400);
    else if (request.url === '/down') finish(503);
    else setTimeout(() => finish(200), 2);
  });
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('the probe loop', () => {
  it('asks one request at a time, each on its own connection, about every interval', async () => {
    connections = 0;
    maxInFlight = 0;
    const loop = startLoop(`${base}/health`, 'read', 20, 500);
    await new Promise((r) => setTimeout(r, 400));
    await loop.stop();
    expect(loop.records.length).toBeGreaterThan(5);
    // never faster than one request per interval (slowness only lowers the count)
    expect(loop.records.length).toBeLessThanOrEqual(21);
    expect(loop.records.every((r) => r.ok && r.status === 200 && r.kind === 'read')).toBe(true);
    expect(connections).toBe(loop.records.length);
    expect(maxInFlight).toBe(1);
  });

  it('writes are POSTs; a 5xx, a refused connection and an answer later than the timeout are failures', async () => {
    methods.length = 0;
    expect(await probeRequest(`${base}/probe`, 'write', 500, { keepBody: true })).toMatchObject({ ok: true, status: 200, kind: 'write', body: { n: 1 } });
    expect(methods).toEqual(['POST']);
    expect(await probeRequest(`${base}/down`, 'read', 500)).toMatchObject({ ok: false, status: 503, error: 'HTTP 503' });
    expect(await probeRequest(`${base}/slow`, 'read', 100)).toMatchObject({ ok: false, status: null, error: 'timeout' });
    expect(await probeRequest('http://127.0.0.1:1/health', 'read', 500)).toMatchObject({ ok: false, status: null, error: 'ECONNREFUSED' });
  });
});
