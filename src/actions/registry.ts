import type { Action } from './types.js';
import { assertAction } from './assert.js';
import { httpExpect } from './http-expect.js';
import { preflight } from './preflight.js';
import { serviceRun } from './service-run.js';
import { sessionsMode } from './sessions-mode.js';
import { postgresCheckpoint } from './postgres-checkpoint.js';
import { postgresPromote } from './postgres-promote.js';
import { postgresStop } from './postgres-stop.js';
import { postgresWaitReplay } from './postgres-wait-replay.js';
import { postgresRejoin } from './postgres-rejoin.js';
import { ipRelease } from './ip-release.js';
import { ipClaim } from './ip-claim.js';
import { ipMove } from './ip-move.js';
import { memcachedFlush } from './memcached-flush.js';
import { filesSync } from './files-sync.js';

/** Every action a playbook may name. Heavy clients (pg, ssh2) load inside the functions that use them. */
export function actionRegistry(): ReadonlyMap<string, Action> {
  const all: Array<Action<any>> = [serviceRun, assertAction, sessionsMode, httpExpect, preflight];
  all.push(ipRelease);
  all.push(ipClaim);
  all.push(ipMove);
  all.push(memcachedFlush);
  all.push(filesSync);
  all.push(postgresCheckpoint);
  all.push(postgresPromote);
  all.push(postgresStop);
  all.push(postgresWaitReplay);
  all.push(postgresRejoin);
  return new Map(all.map((a) => [a.name, a as Action]));
}

/** What the playbook loader needs to validate steps without running anything. */
export function actionInfo(registry: ReadonlyMap<string, Action>) {
  return new Map(
    [...registry].map(([name, a]) => [
      name,
      { outputs: a.outputs, needsHost: a.needsHost, needs: a.needs, paramKeys: paramKeysOf(a) },
    ]),
  );
}

function paramKeysOf(action: Action): readonly string[] | null {
  const shape = (action.params as unknown as { shape?: Record<string, unknown> }).shape;
  return shape ? Object.keys(shape) : null;
}
