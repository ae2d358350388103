import { z } from 'zod';
import { HostUnreachableError, StepFailedError } from '../errors.js';
import { databaseState, type DatabaseState } from '../site/database-state.js';
import { sawPromotion } from '../site/facts.js';
import { lsnDiff } from '../site/lsn.js';
import { pgQuery } from '../site/postgres.js';
import { promoteAndWait, promoteRequestFile } from '../site/promote.js';
import { databaseSettings } from '../site/postgres-server.js';
import { earlierStepOn, otherDatabaseHost } from './postgres-common.js';
import { stepHostName } from './step-host.js';
import { defineAction, type StepContext } from './types.js';

/** Makes a replica the read-write primary (pg_promote), if it is not too far behind. */
export const postgresPromote = defineAction({
  name: 'postgres.promote',
  params: z.object({ max_lag_bytes: z.coerce.number().int().min(0).optional() }).strict(),
  outputs: ['lsn'],
  needs: ['database'],
  needsHost: true,
  changes: true,
  async check(ctx, p) {
    const host = stepHostName(ctx);
    const maxLag = p.max_lag_bytes ?? databaseSettings(ctx.inventory).max_lag_bytes;
    const state = await databaseState(ctx.hosts, ctx.inventory, host);
    if (state.role === 'down') return { status: 'blocked', summary: `PostgreSQL on ${host} is down: start it as a replica first` };
    if (state.role === 'primary') {
      return { status: 'done', summary: `${host} is not in recovery (already a primary, WAL at ${state.currentLsn})`, outputs: { lsn: state.currentLsn ?? '0/0' } };
    }
    const lag = await lagOf(ctx, host, state);
    const beyond = lag.bytes > BigInt(maxLag);
    if (state.replayPaused) {
      return {
        status: 'blocked',
        summary: `replay is paused on ${host} (${lag.description}${beyond ? `, more than max_lag_bytes ${maxLag}` : ''}); resume it with SELECT pg_wal_replay_resume() before promoting`,
      };
    }
    if (beyond) {
      return { status: 'blocked', summary: `${lag.description}: more than max_lag_bytes ${maxLag}; wait for the replica to catch up (or raise max_lag_bytes)` };
    }
    return { status: 'ready', summary: `will promote ${host} (pg_promote); ${lag.description}, within max_lag_bytes ${maxLag}` };
  },
  async apply(ctx) {
    const host = stepHostName(ctx);
    const outcome = await promoteAndWait(ctx.hosts, ctx.inventory, host, ctx.timeoutMs);
    const waited = `${Math.round(ctx.timeoutMs / 100) / 10} s`;
    if (outcome === 'not-sent') throw new StepFailedError(`pg_promote on ${host} could not signal the server`, { hint: `look at the server log on ${host}, then run again` });
    if (outcome === 'withdrawn') {
      throw new StepFailedError(`${host} did not leave recovery within ${waited} of pg_promote; the request was withdrawn (${promoteRequestFile(ctx.inventory)} removed), so ${host} will not promote itself later`, {
        hint: `look at ${host}'s server log (a startup process that does not run, WAL still to replay), then run the same command again`,
      });
    }
    if (outcome === 'standing') {
      throw new StepFailedError(`${host} did not leave recovery within ${waited} of pg_promote, and the request could not be withdrawn: ${host} may still promote itself later`, {
        hint: `stop PostgreSQL on ${host}, or let it finish promoting, before anything else; then run the same command again`,
      });
    }
    sawPromotion(ctx.hosts, host);
    return { summary: `promoted ${host}` };
  },
  async verify(ctx) {
    const host = stepHostName(ctx);
    const state = await databaseState(ctx.hosts, ctx.inventory, host);
    if (state.role !== 'primary') return { ok: false, summary: `${host} is ${state.role === 'down' ? 'down' : 'still in recovery'}` };
    const rows = await pgQuery<{ xid: string; lsn: string }>(ctx.hosts, ctx.inventory, host, 'SELECT pg_current_xact_id()::text AS xid, pg_current_wal_lsn()::text AS lsn');
    const lsn = rows[0]!.lsn;
    return { ok: true, summary: `${host} is a read-write primary on timeline ${state.timeline} (took transaction id ${rows[0]!.xid}; WAL at ${lsn})`, outputs: { lsn } };
  },
});

interface Lag {
  bytes: bigint;
  description: string;
}

/**
 * How far `host` is behind: against the primary when it answers (its current WAL minus our
 * replay), else what we received minus what we replayed. In the plan, when an earlier step
 * stops the primary, it will be gone by then: received vs replayed.
 */
async function lagOf(ctx: StepContext, host: string, state: DatabaseState): Promise<Lag> {
  const other = otherDatabaseHost(ctx.inventory, host);
  const stopping = other ? earlierStepOn(ctx, 'postgres.stop', other) : undefined;
  if (other && !stopping) {
    const primary = await primaryState(ctx, other);
    if (primary?.currentLsn && state.replayLsn) {
      const bytes = maxZero(lsnDiff(primary.currentLsn, state.replayLsn));
      return { bytes, description: `${host} replayed ${state.replayLsn}, ${other} is at ${primary.currentLsn}: ${bytes} bytes behind` };
    }
  }
  const why = stopping ? ` (${other} will have been stopped by step ${stopping.id})` : other ? ` (${other} is not an answering primary)` : '';
  if (!state.receiveLsn || !state.replayLsn) return { bytes: 0n, description: `${host} replayed to ${state.replayLsn ?? 'nothing'}, nothing received by streaming${why}` };
  const bytes = maxZero(lsnDiff(state.receiveLsn, state.replayLsn));
  return { bytes, description: `${host} received ${state.receiveLsn} and replayed ${state.replayLsn}: ${bytes} bytes not replayed${why}` };
}

/** The other host's state when it is an answering primary, else null. */
async function primaryState(ctx: StepContext, host: string): Promise<DatabaseState | null> {
  try {
    const state = await databaseState(ctx.hosts, ctx.inventory, host);
    return state.role === 'primary' ? state : null;
  } catch (error) {
    if (error instanceof HostUnreachableError) return null;
    throw error;
  }
}

function maxZero(value: bigint): bigint {
  return value < 0n ? 0n : value;
}
