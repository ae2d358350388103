import { z } from 'zod';
import { holdsOn, portableIp, removeAddress } from '../site/portable-ip.js';
import { stepTransport } from './step-host.js';
import { plannedHolders } from './planned-holders.js';
import { defineAction } from './types.js';

/** The step's host lets go of the portable IP (fencing an old primary), on whichever interfaces have it. */
export const ipRelease = defineAction({
  name: 'ip.release',
  params: z.object({}).strict(),
  outputs: [],
  needs: ['portable_ip'],
  needsHost: true,
  changes: true,
  async check(ctx) {
    const ip = portableIp(ctx.inventory);
    const host = await stepTransport(ctx);
    const planned = plannedHolders(ctx, (await holdsOn(host, ip)) ? [ctx.host!] : []);
    const after = planned.after ? ` after step ${planned.after}` : '';
    if (!planned.holders.includes(ctx.host!)) return { status: 'done', summary: `${ip.cidr} is not on ${ctx.host}${after}` };
    return { status: 'ready', summary: `will remove ${ip.address} from every interface of ${ctx.host} that has it${after && ` (it is there${after})`}` };
  },
  async apply(ctx) {
    const ip = portableIp(ctx.inventory);
    const removal = await removeAddress(await stepTransport(ctx), ip);
    const { interfaces } = removal;
    return { summary: interfaces.length > 0 ? `removed ${ip.address} from ${interfaces.join(', ')} on ${ctx.host}` : `${ip.address} was already gone from ${ctx.host}`, record: removal };
  },
  async verify(ctx, _p, applied) {
    const ip = portableIp(ctx.inventory);
    // The host's addresses as listed right after the removal, in apply's own command; asked
    // again only when the address was still there (verify retries until the step's timeout).
    const held = applied.record?.stillHeld === false ? false : await holdsOn(await stepTransport(ctx), ip);
    return { ok: !held, summary: held ? `${ip.cidr} is still on ${ctx.host}` : `${ip.cidr} is not on ${ctx.host}` };
  },
});
