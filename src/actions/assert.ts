import { z } from 'zod';
import { lastLine } from '../transports/last-line.js';
import { stepTransport } from './step-host.js';
import { defineAction } from './types.js';

/** A condition the run depends on: `run` must exit 0, else the run is blocked. Never changes anything. */
export const assertAction = defineAction({
  name: 'assert',
  params: z.object({ run: z.string().min(1), message: z.string().min(1).optional() }).strict(),
  outputs: [],
  needs: [],
  needsHost: true,
  commandParams: ['run'],
  changes: false,
  neverDone: true,
  async check(ctx, p) {
    const host = await stepTransport(ctx);
    const result = await host.exec(p.run, { timeoutMs: ctx.timeoutMs, signal: ctx.signal });
    const what = p.message ?? `\`${p.run}\``;
    if (result.exitCode === 0) return { status: 'ready', summary: `${what}: holds` };
    const why = lastLine(result.stderr) || (result.timedOut ? 'timed out' : `exit ${result.exitCode ?? result.signal}`);
    return { status: 'blocked', summary: `${what}: does not hold (${why})` };
  },
});
