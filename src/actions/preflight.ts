import { z } from 'zod';
import { HostUnreachableError } from '../errors.js';
import { lastLine } from '../transports/last-line.js';
import { defineAction } from './types.js';

/** An inventory `checks` entry: runs on each of its hosts; an unreachable host is skipped with a warning unless it is the target. */
export const preflight = defineAction({
  name: 'preflight',
  params: z.object({ name: z.string(), run: z.string().min(1), hosts: z.array(z.string()).min(1), target: z.string().nullable().default(null) }).strict(),
  outputs: [],
  needs: [],
  needsHost: false,
  changes: false,
  neverDone: true,
  // Templates in an inventory check are quoted as one shell word, like a step's `run`.
  commandParams: ['run'],
  hostsIn: (p) => p.hosts,
  async check(ctx, p) {
    const results = await Promise.all(
      p.hosts.map(async (name) => {
        try {
          const host = await ctx.hosts.get(name);
          const r = await host.exec(p.run, { timeoutMs: ctx.timeoutMs, signal: ctx.signal });
          return { name, ok: r.exitCode === 0, detail: lastLine(r.stderr) || `exit ${r.exitCode ?? r.signal}`, down: false };
        } catch (error) {
          if (!(error instanceof HostUnreachableError) || name === p.target) throw error;
          return { name, ok: false, detail: 'does not answer', down: true };
        }
      }),
    );
    for (const r of results.filter((r) => r.down)) ctx.warn(`${r.name} does not answer: preflight "${p.name}" skipped there`);
    const failed = results.filter((r) => !r.ok && !r.down);
    if (failed.length > 0) return { status: 'blocked', summary: `${p.name}: fails on ${failed.map((r) => `${r.name} (${r.detail})`).join(', ')}` };
    const ran = results.filter((r) => !r.down).map((r) => r.name);
    if (ran.length === 0) return { status: 'skipped', summary: `${p.name}: no host answered` };
    return { status: 'ready', summary: `${p.name}: ok on ${ran.join(', ')}` };
  },
});
