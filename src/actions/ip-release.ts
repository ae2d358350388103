import { z } from 'zod';
import { holdsOn, inspectInterface, interfaceProblem, portableIp, removeAddress } from '../site/portable-ip.js';
import { stepHost } from './host-transport.js';
import { plannedHolders } from './ip-claim.js';
import { defineAction } from './types.js';

/** The step's host lets go of the portable IP (fencing an old primary). */
export const ipRelease = defineAction({
  name: 'ip.release',
  params: z.object({}).strict(),
  outputs: [],
  needs: ['portable_ip'],
  needsHost: true,
  changes: true,
  async check(ctx) {
    const ip = portableIp(ctx.inventory);
    const host = await stepHost(ctx);
    const problem = interfaceProblem(await inspectInterface(host, ip.iface, ['ip']), ctx.host!, ip.iface, false);
    if (problem) return { status: 'blocked', summary: problem };
    const planned = plannedHolders(ctx, (await holdsOn(host, ip)) ? [ctx.host!] : []);
    const after = planned.after ? ` after step ${planned.after}` : '';
    if (!planned.holders.includes(ctx.host!)) return { status: 'done', summary: `${ip.cidr} is not on ${ctx.host}${after}` };
    return { status: 'ready', summary: `will remove ${ip.cidr} from ${ip.iface} on ${ctx.host}${after && ` (it is there${after})`}` };
  },
  async apply(ctx) {
    const ip = portableIp(ctx.inventory);
    await removeAddress(await stepHost(ctx), ip);
    return { summary: `removed ${ip.cidr} from ${ip.iface} on ${ctx.host}` };
  },
  async verify(ctx) {
    const ip = portableIp(ctx.inventory);
    const held = await holdsOn(await stepHost(ctx), ip);
    return { ok: !held, summary: held ? `${ip.cidr} is still on ${ctx.host}` : `${ip.cidr} is not on ${ctx.host}` };
  },
});
