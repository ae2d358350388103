import { z } from 'zod';
import { ConfigError, HostUnreachableError, StepFailedError } from '../errors.js';
import { databaseState, type DatabaseState } from '../site/database-state.js';
import { rewindableAsIs, rewindIfDiverged, rewindNeed } from '../site/pg-rewind.js';
import { writePassfile } from '../site/pgpass.js';
import { controlData, databaseSettings, runService } from '../site/postgres-server.js';
import { pgQuery } from '../site/postgres.js';
import { markStandby, primaryConninfo, setPrimaryConninfo } from '../site/primary-conninfo.js';
import { finishCrashRecovery } from '../site/single-user-recovery.js';
import { stopServer } from '../site/stop-server.js';
import { addressOf, earlierStepOn } from './postgres-common.js';
import { stepHostName } from './step-host.js';
import { defineAction, type StepContext } from './types.js';

/** Makes a host (a returned old primary, or a stray replica) a streaming replica of `primary`, rewinding it when its timeline diverged. */
export const postgresRejoin = defineAction({
  name: 'postgres.rejoin',
  params: z.object({ primary: z.string().min(1) }).strict(),
  outputs: [],
  needs: ['database'],
  needsHost: true,
  hostsIn: (p) => [p.primary],
  changes: true,
  async check(ctx, p) {
    const host = stepHostName(ctx);
    const database = databaseSettings(ctx.inventory);
    checkPair(ctx, host, p.primary);
    const primaryAddress = addressOf(ctx.inventory, p.primary);
    const state = await databaseState(ctx.hosts, ctx.inventory, host);
    if (streamingFrom(state, primaryAddress)) {
      return { status: 'done', summary: `${host} is a replica streaming from ${p.primary} (${primaryAddress}), replayed to ${state.replayLsn}` };
    }
    const promoting = earlierStepOn(ctx, 'postgres.promote', p.primary);
    if (promoting) {
      return { status: 'ready', summary: `will rejoin ${host} (${describe(state)}) as a replica of ${p.primary} once step ${promoting.id} has promoted it; rewind decided then` };
    }
    const primary = await answeringPrimary(ctx, p.primary);
    if (typeof primary === 'string') return { status: 'blocked', summary: primary };
    const control = await controlData(await ctx.hosts.get(host), database, ctx.timeoutMs);
    const timeline = Math.max(control.timeline, state.timeline ?? 0);
    const rewind = rewindNeed(host, p.primary, timeline, primary, control);
    if (rewind.blocked) return { status: 'blocked', summary: rewind.text };
    return { status: 'ready', summary: `will stop ${host} (${describe(state)}), ${rewind.text}, and start it as a replica streaming from ${p.primary} (${primaryAddress})` };
  },
  async apply(ctx, p) {
    const host = stepHostName(ctx);
    const database = databaseSettings(ctx.inventory);
    const primaryAddress = addressOf(ctx.inventory, p.primary);
    const transport = await ctx.hosts.get(host);
    const primary = await answeringPrimary(ctx, p.primary);
    if (typeof primary === 'string') throw new StepFailedError(primary);
    const done = [await stopServer(transport, database, host, ctx.timeoutMs)];
    let control = await controlData(transport, database, ctx.timeoutMs);
    // Before anything on the host connects to the primary (pg_rewind, then the standby itself).
    const passfile = await writePassfile(transport, database, primaryAddress, ctx.timeoutMs);
    if (control.timeline !== (primary.timeline ?? 0)) {
      const rewind = rewindNeed(host, p.primary, control.timeline, primary, control);
      if (rewind.blocked) throw new StepFailedError(rewind.text);
      if (!rewindableAsIs(control)) {
        done.push(await finishCrashRecovery(transport, database, host, control, ctx.timeoutMs));
        control = await controlData(transport, database, ctx.timeoutMs);
      }
      // pg_rewind reads the source's control file: a just-promoted primary must have
      // written its end-of-recovery checkpoint, or the rewound server cannot start.
      await pgQuery(ctx.hosts, ctx.inventory, p.primary, 'CHECKPOINT', [], ctx.timeoutMs);
      done.push(await rewindIfDiverged(transport, database, host, primaryAddress, passfile, ctx.timeoutMs));
    }
    await setPrimaryConninfo(transport, database, primaryConninfo(database, host, primaryAddress, passfile), ctx.timeoutMs);
    await markStandby(transport, database, ctx.timeoutMs);
    await runService(transport, database, 'start', ctx.timeoutMs);
    done.push(`standby.signal and primary_conninfo (${p.primary}, ${primaryAddress}) written, started`);
    return { summary: done.join('; ') };
  },
  async verify(ctx, p) {
    const host = stepHostName(ctx);
    const primaryAddress = addressOf(ctx.inventory, p.primary);
    const state = await databaseState(ctx.hosts, ctx.inventory, host);
    const ok = streamingFrom(state, primaryAddress);
    const summary = ok
      ? `${host} streams from ${p.primary} (${primaryAddress}) on timeline ${state.timeline}, replayed to ${state.replayLsn}`
      : `${host} is not streaming from ${p.primary} yet (${describe(state)})`;
    return { ok, summary };
  },
});

function checkPair(ctx: StepContext, host: string, primary: string): void {
  const hosts = databaseSettings(ctx.inventory).hosts;
  if (primary === host) throw new ConfigError(`step ${ctx.stepId}: ${host} cannot rejoin itself`, { hint: 'set with.primary to the other database host' });
  if (!hosts.includes(primary) || !hosts.includes(host)) {
    throw new ConfigError(`step ${ctx.stepId}: ${host} and ${primary} must both be in database.hosts`, { hint: `database.hosts is [${hosts.join(', ')}]` });
  }
}

function streamingFrom(state: DatabaseState, address: string): boolean {
  return state.role === 'replica' && state.streaming && state.upstreamAddress === address;
}

function describe(state: DatabaseState): string {
  if (state.role === 'down') return 'its server is down';
  if (state.role === 'primary') return `running as a primary on timeline ${state.timeline}`;
  return `a replica ${state.streaming ? `streaming from ${state.upstreamAddress}` : 'not streaming'}`;
}

/** The primary's state, or why it cannot serve as one (a sentence). */
async function answeringPrimary(ctx: StepContext, primary: string): Promise<DatabaseState | string> {
  try {
    const state = await databaseState(ctx.hosts, ctx.inventory, primary);
    if (state.role === 'down') return `PostgreSQL on ${primary} is down: there is no primary to rejoin`;
    if (state.role === 'replica') return `${primary} is in recovery (a replica), not a primary: promote it first`;
    return state;
  } catch (error) {
    if (error instanceof HostUnreachableError) return `${primary} does not answer: there is no primary to rejoin`;
    throw error;
  }
}
