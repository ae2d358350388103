// tunnelStream: first over a plain TCP echo server, then as pg's stream through a real
// SSH forward to a throwaway PostgreSQL 15.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSsh } from '../../src/transports/ssh.js';
import { tunnelStream } from '../../src/transports/tunnel-stream.js';
import { freePort, hostEntry, inventoryFor, startSshd, type TestSshd } from './sshd.js';

function socketTo(port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('tunnelStream over TCP', () => {
  let echo: Server;
  let port: number;
  const serverSides = new Set<Socket>();
  beforeAll(async () => {
    echo = createServer((socket) => {
      serverSides.add(socket);
      socket.on('close', () => serverSides.delete(socket));
      socket.pipe(socket);
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    port = (echo.address() as { port: number }).port;
  });
  afterAll(() => echo.close());

  it('opens on connect, emits connect then ready, and pipes both ways', async () => {
    let opened = 0;
    const stream = tunnelStream(() => {
      opened++;
      return socketTo(port);
    }) as Duplex & { connect(port: number, host: string): unknown; setNoDelay(v: boolean): unknown; setKeepAlive(v: boolean, d: number): unknown };
    expect(opened).toBe(0);
    const events: string[] = [];
    stream.on('connect', () => events.push('connect'));
    stream.on('ready', () => events.push('ready'));
    stream.setNoDelay(true);
    stream.connect(5432, 'ignored');
    stream.connect(5432, 'ignored'); // a second connect does not open a second channel
    stream.setKeepAlive(true, 1000);
    stream.write('written before the channel was open;');
    await new Promise((resolve) => stream.once('ready', resolve));
    expect(events).toEqual(['connect', 'ready']);
    expect(opened).toBe(1);
    stream.end('and after');
    const chunks: Buffer[] = [];
    stream.on('data', (d: Buffer) => chunks.push(d));
    await new Promise((resolve) => stream.once('close', resolve));
    expect(Buffer.concat(chunks).toString()).toBe('written before the channel was open;and after');
  });

  it('destroys the channel when the stream is destroyed', async () => {
    let channel: Duplex | undefined;
    const stream = tunnelStream(async () => (channel = await socketTo(port))) as Duplex & { connect(): unknown };
    stream.connect();
    await new Promise((resolve) => stream.once('connect', resolve));
    stream.destroy();
    await new Promise((resolve) => stream.once('close', resolve));
    expect(channel!.destroyed).toBe(true);
  });

  it('ends when the far side closes, and reports a failed open as an error', async () => {
    const stream = tunnelStream(() => socketTo(port)) as Duplex & { connect(): unknown };
    stream.connect();
    await new Promise((resolve) => stream.once('connect', resolve));
    stream.resume();
    const closed = new Promise((resolve) => stream.once('close', resolve));
    serverSides.forEach((s) => s.destroy());
    await closed;

    const failing = tunnelStream(() => Promise.reject(new Error('forward refused'))) as Duplex & { connect(): unknown };
    const error = new Promise<Error>((resolve) => failing.once('error', resolve));
    failing.connect();
    expect((await error).message).toBe('forward refused');
  });
});

describe('tunnelStream as pg stream through an SSH forward', () => {
  let sshd: TestSshd;
  let pgDir: string;
  let pgPort: number;
  const bin = '/usr/lib/postgresql/15/bin';
  const asPostgres = (args: string[]) => execFileSync('runuser', ['-u', 'postgres', '--', ...args], { stdio: 'pipe' });

  beforeAll(async () => {
    sshd = await startSshd();
    pgDir = mkdtempSync(join(tmpdir(), 'mirrorctl-pg-'));
    chmodSync(pgDir, 0o700);
    chownSync(pgDir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
    pgPort = await freePort();
    asPostgres([`${bin}/initdb`, '-D', join(pgDir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync']);
    asPostgres([
      `${bin}/pg_ctl`, '-D', join(pgDir, 'data'), '-l', join(pgDir, 'log'), '-w', 'start',
      '-o', `-p ${pgPort} -k ${pgDir} -c listen_addresses=127.0.0.1 -c fsync=off`,
    ]);
  });

  afterAll(async () => {
    if (pgDir) {
      spawnSync('runuser', ['-u', 'postgres', '--', `${bin}/pg_ctl`, '-D', join(pgDir, 'data'), '-m', 'immediate', '-w', 'stop'], { stdio: 'ignore' });
      rmSync(pgDir, { recursive: true, force: true });
    }
    await sshd?.stop();
  });

  it('runs a query and ends cleanly', async () => {
    const host = hostEntry(sshd);
    host.ssh.knownHosts = join(sshd.dir, 'known_hosts');
    writeFileSync(host.ssh.knownHosts, `[127.0.0.1]:${sshd.port} ${sshd.hostKeys.ed25519.publicLine}\n`);
    const ssh = await connectSsh(host, inventoryFor(host));
    try {
      const client = new pg.Client({
        stream: () => tunnelStream(() => ssh.forward(pgPort)) as never,
        host: 'through-the-tunnel',
        port: pgPort,
        user: 'postgres',
        database: 'postgres',
        keepAlive: true,
        connectionTimeoutMillis: 10_000,
      });
      await client.connect();
      const { rows } = await client.query<{ two: number; recovery: boolean }>('select 1 + 1 as two, pg_is_in_recovery() as recovery');
      expect(rows).toEqual([{ two: 2, recovery: false }]);
      await client.end();
      // The connection is still good for commands afterwards.
      expect((await ssh.exec('echo ok')).stdout).toBe('ok\n');
    } finally {
      await ssh.close();
    }
  });
});
