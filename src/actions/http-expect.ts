import { z } from 'zod';
import { ConfigError, MirrorError } from '../errors.js';
import type { StepContext } from './types.js';
import { defineAction } from './types.js';
import { httpCarrier } from '../site/http-carrier.js';

const REQUEST_TIMEOUT_MS = 2000;

/** The site answers the expected HTTP status (retried until the step's timeout). */
export const httpExpect = defineAction({
  name: 'http.expect',
  params: z.object({ url: z.string().url().optional(), status: z.number().int().min(100).max(599).optional() }).strict(),
  outputs: ['status'],
  needs: [],
  needsHost: false,
  changes: false,
  neverDone: true,
  async check(ctx, p) {
    const { url, status } = target(ctx.inventory.doc.http, p, ctx.stepId);
    const via = await carrier(ctx, url);
    return { status: 'ready', summary: `will expect ${status} from ${url}${through(via)}` };
  },
  async verify(ctx, p) {
    const { url, status } = target(ctx.inventory.doc.http, p, ctx.stepId);
    const { httpStatus } = await import('../site/http-status.js');
    const via = await carrier(ctx, url);
    try {
      const transport = via ? await ctx.hosts.get(via) : null;
      const answered = await httpStatus(url, Math.min(REQUEST_TIMEOUT_MS, ctx.timeoutMs), transport);
      const ok = answered === status;
      return { ok, summary: `${url} answered ${answered}${ok ? '' : `, expected ${status}`}${through(via)}`, outputs: { status: answered } };
    } catch (error) {
      const cause = error instanceof MirrorError ? error.message : ((error as { cause?: { code?: string } }).cause?.code ?? (error as { code?: string }).code ?? (error as Error).message);
      return { ok: false, summary: `${url} did not answer (${cause})${through(via)}` };
    }
  },
});

function target(http: { url: string; expect_status: number } | undefined, p: { url?: string; status?: number }, stepId: string) {
  const url = p.url ?? http?.url;
  if (!url) throw new ConfigError(`step ${stepId} (http.expect) has no url and the inventory has no http.url`, { hint: 'add http.url to the inventory or `url` to the step' });
  return { url, status: p.status ?? http?.expect_status ?? 200 };
}

/** The host whose SSH connection carries the request, or null for the control machine. */
function carrier(ctx: StepContext, url: string): Promise<string | null> {
  return httpCarrier(ctx.inventory, ctx.target, url);
}

function through(via: string | null): string {
  return via ? ` (through ${via}'s SSH connection)` : '';
}
