// The lab's demo web app, run inside each host as `node dist/lab/webapp.js`.
// Like the original wiki it keeps sessions in the database, so on a read-only
// database every logged-in request fails, until the sessions file says `memcache`.
//
//   GET  /health            200 {host, db_role, session_mode}
//   POST /login?user=NAME   new session (database mode: a row; fails 503 on a read-only db), cookie sid
//   POST /write?note=X      insert into writes, 200 {id}; 503 on a read-only db
//   POST /probe             a committed write that keeps no history (one row counted up), 200 {n};
//                           503 on a read-only db: what `probe.write_url` asks for
//   GET  /anything          with cookie sid: database mode UPDATEs the session row (500 "cannot
//                           write session" on a read-only db); memcache mode keeps it in memcached
//
// Settings come from /etc/wiki/app.ini (`key = value`), re-read on SIGHUP; pid in /run/wiki-app.pid.

import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import type { QueryResult } from 'pg';
import { memcacheGet, memcacheSet } from './memcache-client.js';
import { messageOf } from '../error-sentence.js';

/** Where the app finds its settings and writes its pid, and its port: read from the environment when it starts, never at import. */
interface AppPlaces {
  settingsFile: string;
  pidFile: string;
  port: number;
}

function appPlaces(env: NodeJS.ProcessEnv): AppPlaces {
  return { settingsFile: env.WIKI_APP_INI ?? '/etc/wiki/app.ini', pidFile: env.WIKI_APP_PID ?? '/run/wiki-app.pid', port: Number(env.WIKI_APP_PORT ?? 80) };
}

export interface AppSettings {
  host: string;
  sessionBackend: string;
  memcached: string;
  dbSocket: string;
  dbPort: number;
  dbName: string;
  dbUser: string;
  /** A root-only file holding the app's database password. */
  dbPasswordFile: string;
}

/** Parses `key = value` lines; `#`/`;` start comments (whole-line or trailing). */
export function parseIni(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    const equals = trimmed.indexOf('=');
    if (equals < 0) continue;
    const key = trimmed.slice(0, equals).trim();
    const value = trimmed.slice(equals + 1).replace(/\s+[#;].*$/, '').trim();
    values.set(key, value);
  }
  return values;
}

function loadSettings(file: string): AppSettings {
  const ini = parseIni(readFileSync(file, 'utf8'));
  return {
    host: ini.get('site.host') ?? 'unknown',
    sessionBackend: ini.get('session.backend') ?? 'database',
    memcached: ini.get('memcached.server') ?? '127.0.0.1:11211',
    dbSocket: ini.get('db.socket') ?? '/run/postgresql',
    dbPort: Number(ini.get('db.port') ?? 5432),
    dbName: ini.get('db.name') ?? 'wiki',
    dbUser: ini.get('db.user') ?? 'wiki',
    dbPasswordFile: ini.get('db.password_file') ?? '/etc/wiki/db.secret',
  };
}

function send(response: ServerResponse, status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', connection: 'close', ...headers });
  response.end(`${JSON.stringify(body)}\n`);
}

function cookie(request: IncomingMessage, name: string): string | null {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return null;
}

async function main(places: AppPlaces): Promise<void> {
  const { settingsFile, pidFile } = places;
  const { default: pg } = await import('pg');
  let settings = loadSettings(settingsFile);
  const pool = new pg.Pool({
    host: settings.dbSocket,
    port: settings.dbPort,
    database: settings.dbName,
    user: settings.dbUser,
    password: readFileSync(settings.dbPasswordFile, 'utf8').trim(),
    max: 4,
    connectionTimeoutMillis: 2000,
    idleTimeoutMillis: 1000,
    query_timeout: 5000,
  });
  // A server that went away leaves broken idle connections: drop them, never crash.
  pool.on('error', () => undefined);

  /** One query; a connection broken by a restart or promotion is retried once on a new one. */
  async function query(text: string, values: unknown[] = []): Promise<QueryResult> {
    try {
      return await pool.query(text, values);
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      if (/^(25006|23|42)/.test(code)) throw error;
      return pool.query(text, values);
    }
  }

  const sessionKey = (sid: string) => `wiki:session:${sid}`;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://lab');
    const base = { host: settings.host };
    if (url.pathname === '/health') {
      let dbRole = 'down';
      try {
        dbRole = (await query('SELECT pg_is_in_recovery() AS r')).rows[0].r ? 'replica' : 'primary';
      } catch {
        dbRole = 'down';
      }
      send(response, 200, { ...base, db_role: dbRole, session_mode: settings.sessionBackend });
      return;
    }
    if (url.pathname === '/login' && request.method === 'POST') {
      const user = url.searchParams.get('user') ?? 'anonymous';
      const sid = randomBytes(16).toString('hex');
      const setCookie = { 'set-cookie': `sid=${sid}; Path=/; HttpOnly` };
      if (settings.sessionBackend === 'memcache') {
        try {
          await memcacheSet(settings.memcached, sessionKey(sid), JSON.stringify({ user }));
        } catch (error) {
          send(response, 500, { ...base, error: `cannot write session: ${messageOf(error)}` });
          return;
        }
        send(response, 200, { ...base, sid, user, session_store: 'memcache' }, setCookie);
        return;
      }
      try {
        await query('INSERT INTO sessions (id, user_name, data, updated_at) VALUES ($1, $2, $3, now())', [sid, user, '{}']);
      } catch (error) {
        send(response, 503, { ...base, error: `cannot write session: ${messageOf(error)}` });
        return;
      }
      send(response, 200, { ...base, sid, user, session_store: 'database' }, setCookie);
      return;
    }
    if (url.pathname === '/write' && request.method === 'POST') {
      try {
        const result = await query('INSERT INTO writes (note) VALUES ($1) RETURNING id', [url.searchParams.get('note') ?? '']);
        send(response, 200, { ...base, id: Number(result.rows[0].id) });
      } catch (error) {
        send(response, 503, { ...base, error: `cannot write: ${messageOf(error)}` });
      }
      return;
    }
    if (url.pathname === '/probe' && request.method === 'POST') {
      try {
        const result = await query('INSERT INTO probe_writes (id, n) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET n = probe_writes.n + 1, at = now() RETURNING n');
        send(response, 200, { ...base, n: Number(result.rows[0].n) });
      } catch (error) {
        send(response, 503, { ...base, error: `cannot write: ${messageOf(error)}` });
      }
      return;
    }
    const sid = cookie(request, 'sid');
    if (!sid) {
      send(response, 200, { ...base, page: url.pathname, user: null });
      return;
    }
    if (settings.sessionBackend === 'memcache') {
      // Read-only session storage: memcached first, else the (readable) database, copied to memcached.
      try {
        let user: string | null = null;
        const cached = await memcacheGet(settings.memcached, sessionKey(sid));
        if (cached !== null) user = (JSON.parse(cached) as { user: string }).user;
        else {
          const row = await query('SELECT user_name FROM sessions WHERE id = $1', [sid]).catch(() => null);
          user = row?.rows[0]?.user_name ?? null;
        }
        if (user === null) {
          send(response, 401, { ...base, error: 'unknown session' });
          return;
        }
        await memcacheSet(settings.memcached, sessionKey(sid), JSON.stringify({ user }));
        send(response, 200, { ...base, page: url.pathname, user, session_store: 'memcache' });
      } catch (error) {
        send(response, 500, { ...base, error: `cannot write session: ${messageOf(error)}` });
      }
      return;
    }
    try {
      const result = await query('UPDATE sessions SET updated_at = now() WHERE id = $1 RETURNING user_name', [sid]);
      if (result.rowCount === 0) {
        send(response, 401, { ...base, error: 'unknown session' });
        return;
      }
      send(response, 200, { ...base, page: url.pathname, user: result.rows[0].user_name, session_store: 'database' });
    } catch (error) {
      // What the original mirror did: "cannot write to ozone_session" on a read-only database.
      send(response, 500, { ...base, error: `cannot write session: ${messageOf(error)}` });
    }
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error) => send(response, 500, { host: settings.host, error: messageOf(error) }));
  });
  server.keepAliveTimeout = 1000;
  process.on('SIGHUP', () => {
    try {
      settings = loadSettings(settingsFile);
      console.log(`${new Date().toISOString()} reloaded ${settingsFile}: session.backend = ${settings.sessionBackend}`);
    } catch (error) {
      console.error(`${new Date().toISOString()} cannot reload ${settingsFile}: ${messageOf(error)}`);
    }
  });
  const stop = () => {
    rmSync(pidFile, { force: true });
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  server.listen(places.port, '0.0.0.0', () => {
    writeFileSync(pidFile, `${process.pid}\n`);
    console.log(`${new Date().toISOString()} wiki app of ${settings.host} listening on :80 (session.backend = ${settings.sessionBackend})`);
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(appPlaces(process.env)).catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
