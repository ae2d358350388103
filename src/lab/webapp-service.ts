import { access } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.js';
import { SHELL_ALIVE, nodeExecOk } from './exec.js';
import { writeHostFile } from './host-files.js';
import { APP_PID_FILE, APP_SECRET_FILE, HOST_LAB_DIR, HOST_OWN_DIRS, PG_APP_USER, PG_PORT, SESSIONS_FILE, hostPath, type LabHostName, type LabNames } from './paths.js';
import type { LabState } from './state.js';

// Runs the demo web app (dist/lab/webapp.js) inside a host, on port 80 of all its addresses.

export const WEBAPP_LOG = `${HOST_LAB_DIR}/log/webapp.log`;

/** dist/lab/webapp.js of this installation (whether running from src/ under vitest or dist/). */
export async function webappEntry(): Promise<string> {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const entry = join(root, 'dist', 'lab', 'webapp.js');
  const hidden = [entry, process.execPath].find((path) => HOST_OWN_DIRS.some((own) => path.startsWith(`${own}/`)));
  if (hidden) {
    throw new ConfigError(`${hidden} lies under a directory each lab host replaces with its own`, {
      hint: `install mirrorctl and node outside ${HOST_OWN_DIRS.join(', ')}`,
    });
  }
  if (!(await access(entry).then(() => true, () => false))) {
    throw new ConfigError(`The lab's web app ${entry} is not built`, { hint: 'run `npm run build` first' });
  }
  return entry;
}

/** The sessions file (root-owned, mode 640, as on a real server), written only when absent: afterwards it belongs to mirrorctl's sessions.mode. */
export async function ensureSessionsFile(names: LabNames, state: LabState, host: LabHostName): Promise<void> {
  const file = hostPath(names, host, SESSIONS_FILE);
  if (await access(file).then(() => true, () => false)) return;
  await writeHostFile(
    names,
    host,
    SESSIONS_FILE,
    [
      `# Wiki application settings on ${host} (mirrorctl lab). The app re-reads this file on SIGHUP.`,
      '# session.backend: database = sessions in PostgreSQL (needs a read-write database);',
      '#                  memcache = sessions in memcached (read-only mode, for a mirror).',
      `site.host = ${host}`,
      'session.backend = database',
      `memcached.server = ${state.nodes[host].address}:11211`,
      'db.socket = /run/postgresql',
      `db.port = ${PG_PORT}`,
      'db.name = wiki',
      `db.user = ${PG_APP_USER}`,
      `db.password_file = ${APP_SECRET_FILE}`,
      '',
    ].join('\n'),
    0o640,
  );
}

/** Starts the web app unless it runs; returns its pid. */
export async function ensureWebapp(names: LabNames, host: LabHostName): Promise<number> {
  const entry = await webappEntry();
  const result = await nodeExecOk(names, host, [
    SHELL_ALIVE,
    `if ! alive ${APP_PID_FILE}; then`,
    `  rm -f ${APP_PID_FILE}`,
    `  mkdir -p ${HOST_LAB_DIR}/log`,
    `  cd / && setsid -f '${process.execPath}' '${entry}' >>${WEBAPP_LOG} 2>&1 </dev/null`,
    `  i=0; while [ ! -s ${APP_PID_FILE} ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done`,
    'fi',
    `cat ${APP_PID_FILE}`,
  ].join('\n'));
  return Number(result.stdout.trim());
}
