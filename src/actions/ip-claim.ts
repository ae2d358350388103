import { z } from 'zod';
import { sentenceOf } from '../error-sentence.js';
import { HostUnreachableError, StepFailedError } from '../errors.js';
import { announce, arpAnswer, arpResponders } from '../site/arp.js';
import { arpAsker } from '../site/arp-asker.js';
import { strangerOnSegment } from '../site/arp-stranger.js';
import {
  addAddress,
  inspectAndAsk,
  interfaceProblem,
  ipHolders,
  macOf,
  portableIp,
  removeAddress,
  type IpHolders,
  type PortableIp,
} from '../site/portable-ip.js';
import { putBack } from '../site/put-back.js';
import { plannedHolders } from './planned-holders.js';
import { takeFinding } from './take-finding.js';
import { defineAction, type ApplyResult, type CheckResult, type StepContext, type VerifyResult } from './types.js';

// ip.claim (and ip.move, which is a claim that names the old holder): the portable IP
// ends on exactly one host, the target. The check, apply and verify live here and
// ip-move.ts calls them.

/** The portable IP comes to the step's host; every other holder lets go of it. */
export const ipClaim = defineAction({
  name: 'ip.claim',
  params: z.object({}).strict(),
  outputs: [],
  needs: ['portable_ip'],
  needsHost: true,
  changes: true,
  check: (ctx) => checkClaim(ctx, ctx.host!, null),
  apply: (ctx, _p, check) => applyClaim(ctx, ctx.host!, null, check),
  verify: (ctx, _p, applied) => verifyClaim(ctx, ctx.host!, null, applied),
});

/** What apply records for verify: the hosts it took the address from (they may ask ARP), and the target's MAC as the check read it. */
export interface ClaimRecord {
  released: string[];
  targetMac: string | null;
}

/** What the check hands apply: who holds the address, and the target's MAC. */
export interface ClaimFinding extends IpHolders {
  targetMac: string | null;
}

/** Read-only: can `target` take the address, and does it already hold it alone? */
export async function checkClaim(ctx: StepContext, target: string, from: string | null): Promise<CheckResult<ClaimFinding>> {
  const ip = portableIp(ctx.inventory);
  if (from === target) return { status: 'blocked', summary: `from and to are both ${target}` };
  if (from !== null && !(await ctx.hosts.reachable(from))) {
    ctx.warn(`${from} does not answer: ${ip.cidr} is only claimed on ${target} (release it on ${from} when it is back)`);
  }
  const host = await ctx.hosts.get(target);
  // The plan's ARP probe takes a whole second (arping -w 1): it starts with the other
  // questions instead of after them, and its answer is used only if the interface is fine.
  const iface = ip.ifaceOf(target);
  const startProbe = () => arpResponders(host, iface, ip.address, ip.arpProbeMs).catch((error: unknown) => error as Error);
  let probe = ctx.phase === 'plan' ? startProbe() : null;
  // The target's interface and its addresses in one command; the other hosts asked beside it.
  const asking = inspectAndAsk(host, iface, ['ip', 'arping'], ip);
  const [report, found] = await Promise.all([asking.report, ipHolders(ctx.hosts, ctx.inventory, asked(target, from), new Map([[target, asking.holds]]))]);
  const problem = interfaceProblem(report, target, iface, true);
  if (problem) return { status: 'blocked', summary: problem };

  const planned = plannedHolders(ctx, found.holders);
  const others = planned.holders.filter((h) => h !== target);
  const onTarget = planned.holders.includes(target);
  const after = planned.after ? ` after step ${planned.after}` : '';
  const unknown = found.unreachable.length > 0 ? `; ${found.unreachable.join(', ')} did not answer (cannot tell whether it holds ${ip.address})` : '';
  if (onTarget && others.length === 0) {
    return { status: 'done', summary: `${ip.cidr} is on ${target} only${after}${unknown}` };
  }

  // Right before the claim, a host whose connection was lost since the plan may be
  // partitioned, not dead: ARP must then show it silent too (a partition never ends with
  // the address on two hosts). Hosts dead from the start were probed in the plan.
  if (!probe && found.unreachable.some((h) => ctx.hosts.lostDuringRun(h))) probe = startProbe();
  let arp = '';
  if (probe) {
    const current = found.holders.filter((h) => h !== target);
    const stranger = await strangerOnSegment(ctx.hosts, probe, ip, current, report.mac, found.unreachable);
    if (stranger) return { status: 'blocked', summary: stranger };
    arp = current.length > 0 ? `; only ${current.join(' and ')} answer${current.length === 1 ? 's' : ''} ARP now` : '; nobody answers ARP for it now';
  }
  // The run-phase check comes right before apply: apply acts on the holders it found, without asking again.
  return { status: 'ready', summary: `${describeChange(ip, target, others, onTarget)}${after}${arp}${unknown}`, finding: { ...found, targetMac: report.mac } };
}

/** Release everywhere else, add on the target, announce; on a failed add, put the address back. */
export async function applyClaim(ctx: StepContext, target: string, from: string | null, check: CheckResult<ClaimFinding>): Promise<ApplyResult<ClaimRecord>> {
  const ip = portableIp(ctx.inventory);
  const host = await ctx.hosts.get(target);
  const finding = takeFinding(check);
  const found = finding ?? (await ipHolders(ctx.hosts, ctx.inventory, asked(target, from)));
  const others = found.holders.filter((h) => h !== target);
  const transports = await Promise.all(others.map((name) => ctx.hosts.get(name)));

  const removals = await Promise.allSettled(transports.map((t) => removeAddress(t, ip)));
  const released = transports.filter((_, i) => removals[i]!.status === 'fulfilled');
  // A holder that died while it was asked to let go: claimed anyway only if ARP shows it silent.
  const died = others.filter((_, i) => isUnreachable(removals[i]!));
  const failed = removals.find((r): r is PromiseRejectedResult => r.status === 'rejected' && !isUnreachable(r));
  if (failed) {
    await putBack(released, ip);
    throw new StepFailedError(`${sentenceOf(failed.reason)}; ${ip.cidr} was left where it was`, { cause: failed.reason });
  }
  if (died.length > 0) {
    const answering = found.perHost.get(target) === true ? [] : await arpResponders(host, ip.ifaceOf(target), ip.address, ip.arpProbeMs);
    if (answering.length > 0) {
      await putBack(released, ip);
      throw new StepFailedError(`${died.join(', ')} stopped answering SSH while releasing ${ip.address}, and MAC ${answering.join(', ')} still answers ARP for it: not claiming it on ${target} (the address would be on two hosts)`, {
        hint: `take ${ip.address} off ${died.join(', ')} (or power it off), then resume`,
      });
    }
    ctx.warn(`${died.join(', ')} stopped answering SSH while releasing ${ip.cidr}; nobody answers ARP for it, so it is claimed on ${target} (release it on ${died.join(', ')} when it is back)`);
  }
  const record = { released: others.filter((h) => !died.includes(h)), targetMac: finding?.targetMac ?? null };
  try {
    // Added and announced in one remote command: the first gratuitous ARP leaves at once.
    if (found.perHost.get(target) !== true) await addAddress(host, ip, { announce: ip.arpCount });
  } catch (error) {
    // The target stopped answering while adding it: the address may be up there. Putting it
    // back on the released holder could put it on two hosts; leave it, and say so.
    if (error instanceof HostUnreachableError) {
      throw new StepFailedError(`${sentenceOf(error)}; ${ip.cidr} may be on ${target} now, so it is not put back on ${others.join(', ') || 'any other host'} (the address would be on two hosts)`, {
        hint: `see where it is with \`mirrorctl status\` once ${target} answers, then resume`,
        cause: error,
      });
    }
    const back = await putBack(released, ip);
    throw new StepFailedError(`${sentenceOf(error)}; ${back}`, { cause: error });
  }
  if (found.perHost.get(target) === true) await announce(host, ip.ifaceOf(target), ip.address, ip.arpCount);
  const kept = found.perHost.get(target) === true ? `kept on ${target}` : `added on ${target}`;
  const what = others.length > 0 ? `released on ${others.join(', ')}, ${kept}` : kept;
  return { summary: `${ip.cidr} ${what}; ${ip.arpCount} gratuitous ARP sent in the background`, record };
}

/** The address is on the target alone, and ARP for it is answered with the target's MAC. */
export async function verifyClaim(ctx: StepContext, target: string, from: string | null, applied: ApplyResult<ClaimRecord>): Promise<VerifyResult> {
  const ip = portableIp(ctx.inventory);
  const released = applied.record?.released ?? [];
  // Who holds it, the target's MAC (as the check read it, if it did) and what ARP answers, asked together.
  const askArp = async () => {
    const asker = await arpAsker(ctx.hosts, ip, target, released);
    return asker ? { asker, mac: await arpAnswer(asker.transport, asker.iface, ip.address) } : null;
  };
  const [found, targetMac, arp] = await Promise.all([
    ipHolders(ctx.hosts, ctx.inventory, asked(target, from)),
    applied.record?.targetMac ?? ctx.hosts.get(target).then((host) => macOf(host, ip.ifaceOf(target))),
    askArp(),
  ]);
  if (found.holders.length !== 1 || found.holders[0] !== target) {
    const where = found.holders.length === 0 ? 'on no host' : `on ${found.holders.join(' and ')}`;
    return { ok: false, summary: `${ip.cidr} is ${where}, not on ${target} alone` };
  }
  if (!arp) {
    ctx.warn(`${ip.cidr} is on ${target} only, but no other host could ask ARP for it: nothing confirmed that ${target}'s MAC is the one answering`);
    return { ok: true, summary: `${ip.cidr} is on ${target} only (no other host to ask ARP from)` };
  }
  const { asker, mac } = arp;
  if (mac === null) return { ok: false, summary: `${ip.cidr} is on ${target} only, but nobody answers ARP for it from ${asker.name}` };
  if (mac !== targetMac) return { ok: false, summary: `ARP for ${ip.address} from ${asker.name} is answered by ${mac}, not by ${target} (${targetMac})` };
  return { ok: true, summary: `${ip.cidr} is on ${target} only; ARP from ${asker.name} answers with ${target}'s MAC ${mac}` };
}

/** Hosts asked about the address besides portable_ip.hosts. */
function asked(target: string, from: string | null): string[] {
  return from === null ? [target] : [from, target];
}

function describeChange(ip: PortableIp, target: string, others: string[], onTarget: boolean): string {
  if (others.length === 0) return `will add ${ip.cidr} on ${target} (no host holds it)`;
  if (onTarget || others.length > 1) {
    const all = onTarget ? [...others, target] : others;
    return `${ip.cidr} is on ${all.join(' and ')}: will release it from ${others.join(', ')} and keep it on ${target}`;
  }
  return `will move ${ip.cidr} from ${others[0]} to ${target}`;
}

function isUnreachable(result: PromiseSettledResult<unknown>): boolean {
  return result.status === 'rejected' && result.reason instanceof HostUnreachableError;
}
