import { z } from 'zod';
import { applyClaim, checkClaim, verifyClaim } from './ip-claim.js';
import { defineAction } from './types.js';

/** The portable IP moves from the old host to the new; an old host that does not answer is only warned about. */
export const ipMove = defineAction({
  name: 'ip.move',
  params: z.object({ from: z.string().min(1), to: z.string().min(1) }).strict(),
  outputs: [],
  needs: ['portable_ip'],
  needsHost: false,
  hostsIn: (p) => [p.from, p.to],
  changes: true,
  check: (ctx, p) => checkClaim(ctx, p.to, p.from),
  apply: (ctx, p, check) => applyClaim(ctx, p.to, p.from, check),
  verify: (ctx, p, applied) => verifyClaim(ctx, p.to, p.from, applied),
});
