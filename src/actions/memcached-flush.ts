import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { StepFailedError } from '../errors.js';
import { hostOfServer } from '../inventory/sections.js';
import { flushAll, hasKey, memcachedState, setKey } from '../site/memcached.js';
import { defineAction, type ApplyResult, type CheckResult, type StepContext } from './types.js';

// memcached forgets every page of the old primary. Never `done`: it always runs.
// Proof of a flush is a sentinel key written just before it and gone after it;
// not the `cmd_flush` counter, which a refused flush_all increments too.

const PER_SERVER_TIMEOUT_MS = 2000;
const SENTINEL_TTL_S = 600;

const server = z.string().regex(/^[^\s:]+:\d+$/, 'must be host:port');

export const memcachedFlush = defineAction({
  name: 'memcached.flush',
  params: z.object({ servers: z.array(server).min(1).optional() }).strict(),
  outputs: ['flushed'],
  needs: ['memcached'],
  needsHost: false,
  changes: true,
  neverDone: true,
  async check(ctx, p): Promise<CheckResult<string[]>> {
    const { flush, skipped, problems } = await survey(ctx, serversOf(ctx, p.servers));
    if (problems.length > 0) return { status: 'blocked', summary: problems.join('; ') };
    const skippedNote = skipped.length > 0 ? `; skipping ${skipped.join(', ')} (host does not answer)` : '';
    // The run-phase check comes right before apply: apply flushes what it found, without asking again.
    const finding = flush.map((s) => s.server);
    if (flush.length === 0) return { status: 'ready', summary: `no memcached server answers: nothing to flush${skippedNote}`, finding };
    const items = flush.map((s) => `${s.server}: ${s.items ?? '?'} items`).join(', ');
    return { status: 'ready', summary: `will flush ${count(flush.length)} (${items})${skippedNote}`, finding };
  },
  async apply(ctx, p, check): Promise<ApplyResult<FlushRecord>> {
    const servers = check.finding ?? (await serversToFlush(ctx, p.servers));
    const sentinel = `mirrorctl:flush-sentinel:${randomBytes(8).toString('hex')}`;
    await Promise.all(servers.map((s) => setKey(s, sentinel, '1', SENTINEL_TTL_S, PER_SERVER_TIMEOUT_MS)));
    const results = await Promise.allSettled(servers.map((s) => flushAll(s, PER_SERVER_TIMEOUT_MS)));
    const failed = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
    if (failed.length > 0) throw new StepFailedError(failed.join('; '), { hint: 'flush it by hand (`echo flush_all | nc HOST PORT`) or restart it' });
    return { summary: `flushed ${count(servers.length)}`, outputs: { flushed: servers.length }, record: { sentinel, servers } };
  },
  async verify(ctx, _p, applied) {
    const flushed = applied.record;
    if (!flushed) return { ok: false, summary: 'no flush was recorded for this step' };
    const present = await Promise.all(flushed.servers.map((s) => hasKey(s, flushed.sentinel, PER_SERVER_TIMEOUT_MS)));
    const stale = flushed.servers.filter((_, i) => present[i]);
    if (stale.length > 0) return { ok: false, summary: `the sentinel key written before the flush is still on ${stale.join(', ')}` };
    return { ok: true, summary: `the sentinel key is gone on ${count(flushed.servers.length)}`, outputs: { flushed: flushed.servers.length } };
  },
});

/** The sentinel key written just before the flush, and the servers flushed. */
interface FlushRecord {
  sentinel: string;
  servers: string[];
}

function serversOf(ctx: StepContext, servers: string[] | undefined): string[] {
  const list = servers ?? ctx.inventory.doc.memcached?.servers;
  if (!list) throw new StepFailedError(`step ${ctx.stepId} names no servers and ${ctx.inventory.file} has no memcached section`, { hint: 'add memcached.servers to the inventory or `servers` to the step' });
  return list;
}

/**
 * Asks every server in parallel. A server that does not answer is skipped (with a
 * warning) when its host is unreachable in this run: a cache that is down holds
 * nothing. Otherwise it blocks, as does a server that refuses flushes (-F).
 */
async function survey(ctx: StepContext, servers: string[], warn = true) {
  // A server on a host this run found unreachable from the start is not asked (that would wait a
  // timeout). One whose host's SSH connection was lost during the run is asked all the same: its
  // memcached, reached directly, may well be up, and then it holds pages to flush.
  const states = await Promise.all(
    servers.map((s) => {
      const host = hostOfServer(ctx.inventory, s);
      const deadFromStart = host !== null && ctx.hosts.known(host) === 'unreachable' && !ctx.hosts.lostDuringRun(host);
      return deadFromStart ? { server: s, up: false, items: null, flushEnabled: null } : memcachedState(s, PER_SERVER_TIMEOUT_MS);
    }),
  );
  const flush = states.filter((s) => s.up && s.flushEnabled !== false);
  const problems: string[] = [];
  const skipped: string[] = [];
  for (const state of states) {
    if (state.up && state.flushEnabled === false) {
      problems.push(`memcached ${state.server} refuses flushes (started with -F / flush_enabled no)`);
      continue;
    }
    if (state.up) continue;
    const host = hostOfServer(ctx.inventory, state.server);
    // The server's host may have died a moment ago, before its SSH keepalive noticed: ask it.
    if (host !== null && !(await ctx.hosts.answers(host))) {
      skipped.push(state.server);
      if (warn) ctx.warn(`memcached ${state.server} skipped: ${host} does not answer (a cache that is down holds nothing)`);
    } else {
      problems.push(`memcached ${state.server} does not answer${host ? ` although ${host} does` : ''}`);
    }
  }
  return { flush, skipped, problems };
}

async function serversToFlush(ctx: StepContext, servers: string[] | undefined): Promise<string[]> {
  const { flush, problems } = await survey(ctx, serversOf(ctx, servers), false);
  if (problems.length > 0) throw new StepFailedError(problems.join('; '));
  return flush.map((s) => s.server);
}

function count(n: number): string {
  return `${n} server${n === 1 ? '' : 's'}`;
}
