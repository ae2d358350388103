import { z } from 'zod';
import { databaseState, type DatabaseState } from '../site/database-state.js';
import { lsnDiff, parseLsn } from '../site/lsn.js';
import { stepHostName } from './step-host.js';
import { defineAction, isPlaceholder } from './types.js';

const lsnParam = z.string().refine((text) => isPlaceholder(text) || isLsn(text), 'must be a WAL location like 0/3000060');

/** Waits until a replica has replayed strictly past `lsn` (e.g. the old primary's final checkpoint record). */
export const postgresWaitReplay = defineAction({
  name: 'postgres.wait-replay',
  params: z.object({ lsn: lsnParam }).strict(),
  outputs: [],
  needs: ['database'],
  needsHost: true,
  changes: true,
  async check(ctx, p) {
    const host = stepHostName(ctx);
    const state = await databaseState(ctx.hosts, ctx.inventory, host);
    if (state.role === 'down') return { status: 'blocked', summary: `PostgreSQL on ${host} is down: nothing would replay` };
    if (state.role === 'primary') return { status: 'done', summary: `${host} is not in recovery (already promoted): nothing to wait for` };
    if (state.replayPaused) {
      return { status: 'blocked', summary: `replay is paused on ${host} (at ${state.replayLsn}); resume it with SELECT pg_wal_replay_resume()` };
    }
    if (isPlaceholder(p.lsn)) return { status: 'ready', summary: `will wait for replay on ${host} past ${p.lsn} (replayed to ${state.replayLsn} now)` };
    if (passed(state, p.lsn)) return { status: 'done', summary: `${host} has replayed past ${p.lsn} (at ${state.replayLsn})` };
    return { status: 'ready', summary: `will wait until replay on ${host} passes ${p.lsn} (${distance(state, p.lsn)})` };
  },
  async apply(ctx, p) {
    return { summary: `waiting for replay on ${stepHostName(ctx)} past ${p.lsn}` };
  },
  async verify(ctx, p) {
    const host = stepHostName(ctx);
    const state = await databaseState(ctx.hosts, ctx.inventory, host);
    if (state.role === 'primary') return { ok: true, summary: `${host} left recovery` };
    if (state.role === 'down') return { ok: false, summary: `PostgreSQL on ${host} is down` };
    if (passed(state, p.lsn)) return { ok: true, summary: `${host} replayed past ${p.lsn} (at ${state.replayLsn})` };
    const paused = state.replayPaused ? '; replay is paused' : '';
    return { ok: false, summary: `${host} has not replayed past ${p.lsn} (${distance(state, p.lsn)}${paused})` };
  },
});

/** Strictly past: a checkpoint location is where its record starts, so that record must be replayed too. */
function passed(state: DatabaseState, lsn: string): boolean {
  return state.replayLsn !== null && lsnDiff(state.replayLsn, lsn) > 0n;
}

function distance(state: DatabaseState, lsn: string): string {
  if (state.replayLsn === null) return 'nothing replayed yet';
  return `replayed to ${state.replayLsn}, ${-lsnDiff(state.replayLsn, lsn)} bytes short`;
}

function isLsn(text: string): boolean {
  try {
    parseLsn(text);
    return true;
  } catch {
    return false;
  }
}
