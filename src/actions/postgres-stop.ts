import { z } from 'zod';
import { StepFailedError } from '../errors.js';
import { databaseState } from '../site/database-state.js';
import { sawControl } from '../site/facts.js';
import { controlData, databaseSettings, stoppedState, stopService } from '../site/postgres-server.js';
import { settledPostmaster } from '../site/postmaster.js';
import { lastLine } from '../transports/last-line.js';
import { stepHostName } from './step-host.js';
import { defineAction } from './types.js';

/** A cluster state pg_controldata reports after a clean stop (or a rewind, which leaves "in archive recovery"). */
const CLEAN_STATES = ['shut down', 'shut down in recovery', 'in archive recovery'];

/**
 * Stops a primary's PostgreSQL cleanly (fast shutdown); outputs the final checkpoint's LSN.
 * Done only when the server runs in recovery or is stopped in a clean state: a crashed one
 * is never taken for a cleanly stopped one; `if_crashed` decides (spec 6).
 */
export const postgresStop = defineAction({
  name: 'postgres.stop',
  params: z.object({ if_crashed: z.enum(['block', 'accept']).default('block') }).strict(),
  outputs: ['lsn'],
  needs: ['database'],
  needsHost: true,
  changes: true,
  async check(ctx, p) {
    const host = stepHostName(ctx);
    const database = databaseSettings(ctx.inventory);
    let state = await databaseState(ctx.hosts, ctx.inventory, host);
    const transport = await ctx.hosts.get(host);
    // A server that does not answer may be starting up, shutting down, or crashed with its
    // children still exiting: wait for it to settle (bounded by the step's timeout).
    const postmaster = state.role === 'down' ? await settledPostmaster(transport, database, ctx.timeoutMs) : 'running';
    if (state.role === 'down' && postmaster === 'running') state = await databaseState(ctx.hosts, ctx.inventory, host);
    if (state.role === 'primary') {
      return { status: 'ready', summary: `will stop the primary on ${host} (fast shutdown; WAL now at ${state.currentLsn})` };
    }
    if (state.role === 'replica') {
      return { status: 'done', summary: `${host} is in recovery (a replica, replayed to ${state.replayLsn}): nothing to stop`, outputs: { lsn: state.replayLsn ?? '0/0' } };
    }
    if (postmaster === 'running') {
      return { status: 'blocked', summary: `PostgreSQL on ${host} runs and says it is ready, but refuses mirrorctl's connection: check database.user, password_env and pg_hba.conf` };
    }
    const control = await controlData(transport, database, ctx.timeoutMs);
    sawControl(ctx.hosts, host, control);
    if (CLEAN_STATES.includes(control.state)) {
      return { status: 'done', summary: `PostgreSQL on ${host} is stopped (${control.state}; final checkpoint at ${control.checkpointLsn})`, outputs: { lsn: control.checkpointLsn } };
    }
    if (p.if_crashed === 'block') {
      const to = ctx.target ?? 'TARGET';
      return {
        status: 'blocked',
        summary: `PostgreSQL on ${host} crashed (cluster state "${control.state}", last checkpoint ${control.checkpointLsn}): no clean final checkpoint proves every write reached the replica; run \`mirrorctl failover --to ${to}\` (which accepts the loss it cannot rule out), or start ${host}'s database and stop it cleanly first`,
      };
    }
    ctx.warn(`PostgreSQL on ${host} is not running but was not shut down cleanly (cluster state "${control.state}"): WAL written after its last checkpoint ${control.checkpointLsn} may not have reached the replica`);
    return { status: 'done', summary: `PostgreSQL on ${host} is stopped, not cleanly (${control.state}; last checkpoint at ${control.checkpointLsn})`, outputs: { lsn: control.checkpointLsn } };
  },
  async apply(ctx) {
    const host = stepHostName(ctx);
    const database = databaseSettings(ctx.inventory);
    const transport = await ctx.hosts.get(host);
    const after = await stopService(transport, database, ctx.timeoutMs);
    const { control } = after;
    sawControl(ctx.hosts, host, control);
    if (control.state !== 'shut down') {
      throw new StepFailedError(`\`${database.service.stop}\` on ${host} left the cluster "${control.state}", not "shut down"`, {
        hint: `look at the server log on ${host}; stop it cleanly (pg_ctl stop -m fast) and run again`,
      });
    }
    return { summary: `stopped PostgreSQL on ${host}; final checkpoint at ${control.checkpointLsn}`, outputs: { lsn: control.checkpointLsn }, record: after };
  },
  async verify(ctx, _p, applied) {
    const host = stepHostName(ctx);
    const database = databaseSettings(ctx.inventory);
    // What the host said right after the stop, in apply's own command; asked again only
    // when that was not yet a clean stop (verify retries until the step's timeout).
    const after = applied.record;
    const settled = after && !after.running && after.control.state === 'shut down';
    const { running, control } = settled ? after : await stoppedState(await ctx.hosts.get(host), database, ctx.timeoutMs);
    sawControl(ctx.hosts, host, control);
    const ok = !running && control.state === 'shut down';
    const summary = ok
      ? `no postmaster on ${host}; pg_controldata: shut down at ${control.checkpointLsn}`
      : `${running ? 'a postmaster still runs' : 'no postmaster'} on ${host}; pg_controldata: ${lastLine(control.state)}`;
    return { ok, summary, outputs: { lsn: control.checkpointLsn } };
  },
});
