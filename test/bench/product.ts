import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// The bench is a development tool outside the product (test/bench, built by
// test/bench/tsconfig.json into build/bench, never shipped). It drives the BUILT product,
// as a user gets it: every module of mirrorctl it uses is loaded from dist/ here (types
// from src/, which dist/ is compiled from in the same `npm run bench`), never from a
// second compiled copy. That matters beyond identity: some product modules find files
// relative to their own location (the lab's web app in dist/lab/, the bundled playbooks).

/** The mirrorctl checkout: the nearest directory above this file with mirrorctl's package.json. */
function findProjectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'mirrorctl') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no mirrorctl package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

export const PROJECT_ROOT = findProjectRoot();
export const DIST_DIR = join(PROJECT_ROOT, 'dist');

/** A module of the built product, e.g. `lab/paths.js` for src/lab/paths.ts. */
async function fromDist<T>(path: string): Promise<T> {
  const file = join(DIST_DIR, path);
  if (!existsSync(file)) throw new Error(`${file} is missing: build the product first (npm run build), as \`npm run bench\` does`);
  return (await import(pathToFileURL(file).href)) as T;
}

export const { AVATARS_DIR, LAB_HOSTS, PASSWORD_ENV, PG_BIN_DIR, PG_DATA_DIR, PG_LOG_FILE, PG_PORT, PG_REPLICATION_USER, PG_SUPERUSER, SESSIONS_FILE, SSH_PORT, UPLOADS_DIR, hostPath, labNames, userHome } =
  await fromDist<typeof import('../../src/lab/paths.js')>('lab/paths.js');
export const { nodeExec, nsenterArgs, run } = await fromDist<typeof import('../../src/lab/exec.js')>('lab/exec.js');
export const { readLabState } = await fromDist<typeof import('../../src/lab/state.js')>('lab/state.js');
export const { labStatusAt } = await fromDist<typeof import('../../src/lab/status.js')>('lab/status.js');
export const { labCut, labRestore } = await fromDist<typeof import('../../src/lab/cut.js')>('lab/cut.js');
export const { labDownAt } = await fromDist<typeof import('../../src/lab/down.js')>('lab/down.js');
export const { labUp } = await fromDist<typeof import('../../src/commands/lab.js')>('commands/lab.js');
export const { loadInventory } = await fromDist<typeof import('../../src/inventory/load.js')>('inventory/load.js');
export const { connectSsh } = await fromDist<typeof import('../../src/transports/ssh.js')>('transports/ssh.js');
export const { startLoop } = await fromDist<typeof import('../../src/probe/loop.js')>('probe/loop.js');
export const { longestOutage } = await fromDist<typeof import('../../src/probe/outage.js')>('probe/outage.js');
export const { nowMs, probeRequest } = await fromDist<typeof import('../../src/probe/request.js')>('probe/request.js');
