import { z } from 'zod';
import { assertSucceeded } from '../transports/command-error.js';
import { lastLine } from '../transports/last-line.js';
import { stepTransport } from './step-host.js';
import { defineAction } from './types.js';

/** Runs an operator's command; `unless` exiting 0 means already done, `check` failing blocks. */
export const serviceRun = defineAction({
  name: 'service.run',
  params: z.object({ run: z.string().min(1), check: z.string().min(1).optional(), unless: z.string().min(1).optional() }).strict(),
  outputs: ['stdout'],
  needs: [],
  needsHost: true,
  commandParams: ['run', 'check', 'unless'],
  changes: true,
  async check(ctx, p) {
    const host = await stepTransport(ctx);
    if (p.unless) {
      const unless = await host.exec(p.unless, { timeoutMs: ctx.timeoutMs, signal: ctx.signal });
      if (unless.exitCode === 0) return { status: 'done', summary: `already done (\`${p.unless}\` exits 0)`, outputs: { stdout: '' } };
    }
    if (p.check) {
      const check = await host.exec(p.check, { timeoutMs: ctx.timeoutMs, signal: ctx.signal });
      if (check.exitCode !== 0) {
        return { status: 'blocked', summary: `\`${p.check}\` exited ${check.exitCode ?? check.signal}${check.stderr ? `: ${lastLine(check.stderr)}` : ''}` };
      }
    }
    return { status: 'ready', summary: `will run \`${p.run}\`` };
  },
  async apply(ctx, p) {
    const host = await stepTransport(ctx);
    const result = assertSucceeded(await host.exec(p.run, { timeoutMs: ctx.timeoutMs, signal: ctx.signal }));
    return { summary: `ran \`${p.run}\` (exit 0)`, outputs: { stdout: result.stdout.trim() } };
  },
});
