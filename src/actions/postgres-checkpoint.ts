import { z } from 'zod';
import { databaseState } from '../site/database-state.js';
import { pgQuery } from '../site/postgres.js';
import { stepHostName } from './step-host.js';
import { defineAction } from './types.js';

/**
 * A CHECKPOINT on the primary early in a switchover, while both hosts still serve: the
 * shutdown checkpoint of `postgres.stop`, which is inside the write gap, then has only what
 * was written since to flush. Bounded by the step's timeout (statement_timeout on the server).
 */
export const postgresCheckpoint = defineAction({
  name: 'postgres.checkpoint',
  params: z.object({}).strict(),
  outputs: [],
  needs: ['database'],
  needsHost: true,
  changes: false,
  neverDone: true,
  async check(ctx) {
    const host = stepHostName(ctx);
    const state = await databaseState(ctx.hosts, ctx.inventory, host);
    if (state.role === 'down') return { status: 'skipped', summary: `PostgreSQL on ${host} is not running: nothing to checkpoint` };
    if (state.role !== 'primary') return { status: 'skipped', summary: `${host} is a replica: a checkpoint there does not shorten its shutdown as a primary's` };
    const [may] = await pgQuery<{ allowed: boolean }>(ctx.hosts, ctx.inventory, host, "SELECT rolsuper OR pg_has_role(current_user, 'pg_checkpoint', 'MEMBER') AS allowed FROM pg_roles WHERE rolname = current_user");
    if (!may?.allowed) return { status: 'skipped', summary: `database.user may not run CHECKPOINT on ${host} (needs superuser or pg_checkpoint): the shutdown checkpoint will write everything` };
    return { status: 'ready', summary: `will run CHECKPOINT on ${host} (WAL at ${state.currentLsn}), so its shutdown checkpoint has little left to write` };
  },
  async apply(ctx) {
    const host = stepHostName(ctx);
    const started = performance.now();
    await pgQuery(ctx.hosts, ctx.inventory, host, 'CHECKPOINT', [], ctx.timeoutMs);
    return { summary: `CHECKPOINT on ${host} took ${Math.round(performance.now() - started)} ms` };
  },
});
