import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { defineAction } from './types.js';

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
    return { status: 'ready', summary: `will expect ${status} from ${url}` };
  },
  async verify(ctx, p) {
    const { url, status } = target(ctx.inventory.doc.http, p, ctx.stepId);
    try {
      const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(Math.min(REQUEST_TIMEOUT_MS, ctx.timeoutMs)) });
      await response.arrayBuffer().catch(() => undefined);
      const ok = response.status === status;
      return { ok, summary: `${url} answered ${response.status}${ok ? '' : `, expected ${status}`}`, outputs: { status: response.status } };
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
      return { ok: false, summary: `${url} did not answer (${cause})` };
    }
  },
});

function target(http: { url: string; expect_status: number } | undefined, p: { url?: string; status?: number }, stepId: string) {
  const url = p.url ?? http?.url;
  if (!url) throw new ConfigError(`step ${stepId} (http.expect) has no url and the inventory has no http.url`, { hint: 'add http.url to the inventory or `url` to the step' });
  return { url, status: p.status ?? http?.expect_status ?? 200 };
}
