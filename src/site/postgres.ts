import type { Duplex } from 'node:stream';
import type { Client } from 'pg';
import { ConfigError, HostTrustError, HostUnreachableError, MirrorError } from '../errors.js';
import type { Inventory } from '../inventory/schema.js';
import type { HostPool } from '../transports/pool.js';
import { databasePassword } from './database-password.js';
import { PerRun } from './per-run.js';
import { messageOf } from '../error-sentence.js';

// PostgreSQL reached through each host's SSH connection (a forwarded channel to
// 127.0.0.1:database.port on the host): one pg.Client per host per run, kept per
// pool and ended when the run ends.

const DEFAULT_QUERY_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 10_000;
/** SQLSTATEs that mean "the server is there but not accepting work": starting, stopping, crashed. */
const DOWN_CODES = new Set(['57P01', '57P02', '57P03']);

/** The host answers over SSH but its PostgreSQL does not (refused, starting up or shutting down). */
export class DatabaseDownError extends MirrorError {
  readonly host: string;
  constructor(host: string, detail: string, options: { cause?: unknown } = {}) {
    super(`PostgreSQL on ${host} is down (${detail})`, 3, {
      hint: 'start it, or run a playbook that expects it down',
      cause: options.cause,
    });
    this.host = host;
  }
}

interface Connection {
  client: Client;
  /** statement_timeout currently set on the session, in ms. */
  statementTimeoutMs: number;
  /** The statement under way: checks running in parallel take turns on the one connection. */
  turn: Promise<unknown>;
}

/** Runs one SQL statement on `host`'s PostgreSQL and returns its rows. */
export async function pgQuery<T = Record<string, unknown>>(
  pool: HostPool,
  inventory: Inventory,
  host: string,
  sql: string,
  params: unknown[] = [],
  timeoutMs = DEFAULT_QUERY_TIMEOUT_MS,
): Promise<T[]> {
  const connection = await connectionFor(pool, inventory, host);
  // One statement at a time per connection (pg would queue them too, but warns that it will
  // stop), and each with its own statement_timeout set right before it.
  const previous = connection.turn;
  let done!: () => void;
  connection.turn = new Promise<void>((resolve) => (done = resolve));
  await previous.catch(() => undefined);
  try {
    if (connection.statementTimeoutMs !== timeoutMs) {
      await connection.client.query({ text: `SET statement_timeout = ${Math.max(1, Math.round(timeoutMs))}`, query_timeout: timeoutMs + 2000 } as never);
      connection.statementTimeoutMs = timeoutMs;
    }
    const result = await connection.client.query({ text: sql, values: params, query_timeout: timeoutMs + 2000 } as never);
    return (result as unknown as { rows: T[] }).rows;
  } catch (error) {
    if (!isSqlError(error)) dropConnection(pool, host, connection);
    throw asPostgresError(host, error);
  } finally {
    done();
  }
}

/** Each run's connections, by host; ended when the run's pool closes. */
const connections = new PerRun<Map<string, Promise<Connection>>>(() => new Map(), endAll);

/** The cached connection of `host`, or a new one (the previous one errored or the server restarted). */
function connectionFor(pool: HostPool, inventory: Inventory, host: string): Promise<Connection> {
  const open = connections.of(pool);
  let pending = open.get(host);
  if (!pending) {
    pending = connect(pool, inventory, host);
    open.set(host, pending);
    pending.catch(() => {
      if (open.get(host) === pending) open.delete(host);
    });
  }
  return pending;
}

async function connect(pool: HostPool, inventory: Inventory, host: string): Promise<Connection> {
  const database = inventory.doc.database;
  if (!database) throw new ConfigError(`${inventory.file} has no database section`, { hint: 'add database: (spec section 5)' });
  const password = databasePassword(database);
  const transport = await pool.get(host);
  // What the tunnel failed with, so that pg's generic "connection error" can be told apart.
  let openError: unknown = null;
  const open = async (): Promise<Duplex> => {
    try {
      return await transport.forward(database.port);
    } catch (error) {
      openError = error;
      throw error;
    }
  };
  const { tunnelStream } = await import('../transports/tunnel-stream.js');
  const { default: pg } = await import('pg');
  const client = new pg.Client({
    stream: tunnelStream(open) as never,
    user: database.user,
    database: database.dbname,
    password,
    application_name: 'mirrorctl',
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: DEFAULT_QUERY_TIMEOUT_MS,
  });
  const connection: Connection = { client, statementTimeoutMs: DEFAULT_QUERY_TIMEOUT_MS, turn: Promise.resolve() };
  // An idle client whose server went away emits 'error': forget it, the next query reconnects.
  client.on('error', () => dropConnection(pool, host, connection));
  client.on('end', () => dropConnection(pool, host, connection));
  try {
    await client.connect();
  } catch (error) {
    client.end().catch(() => undefined);
    if (openError instanceof HostUnreachableError || openError instanceof HostTrustError) throw openError;
    if (openError) throw new DatabaseDownError(host, `nothing answers on port ${database.port}`, { cause: openError });
    throw asPostgresError(host, error);
  }
  return connection;
}

/** Forgets `connection` if it is still the cached one for `host`, and closes it. */
function dropConnection(pool: HostPool, host: string, connection: Connection): void {
  const open = connections.peek(pool);
  const cached = open?.get(host);
  if (open && cached) {
    cached.then(
      (c) => {
        if (c === connection && open.get(host) === cached) open.delete(host);
      },
      () => undefined,
    );
  }
  connection.client.end().catch(() => undefined);
}

/** Ends every client of a run when it ends (each given 2 s). */
async function endAll(open: Map<string, Promise<Connection>>): Promise<void> {
  await Promise.all(
    [...open.values()].map((pending) =>
      pending.then(
        (c) => Promise.race([c.client.end(), new Promise<void>((resolve) => setTimeout(resolve, 2000).unref())]),
        () => undefined,
      ),
    ),
  );
}

/** True for an error the server sent about the statement itself (the session is still usable). */
function isSqlError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !DOWN_CODES.has(code) && !code.startsWith('08');
}

/** One error type per cause: the host (as is), the server down, or the statement's own failure. */
function asPostgresError(host: string, error: unknown): Error {
  if (error instanceof MirrorError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = messageOf(error);
  if (typeof code === 'string' && DOWN_CODES.has(code)) return new DatabaseDownError(host, message, { cause: error });
  if (/Connection terminated|not queryable|ECONNRESET|EPIPE/i.test(message)) {
    return new DatabaseDownError(host, `the connection was closed: ${message}`, { cause: error });
  }
  return new PostgresError(host, message, { cause: error, code: typeof code === 'string' ? code : null });
}

/** A statement PostgreSQL refused or that timed out (the server itself is up). */
export class PostgresError extends MirrorError {
  readonly host: string;
  readonly code: string | null;
  constructor(host: string, message: string, options: { cause?: unknown; code: string | null }) {
    super(`PostgreSQL on ${host}: ${message}`, 1, { cause: options.cause });
    this.host = host;
    this.code = options.code;
  }
}
