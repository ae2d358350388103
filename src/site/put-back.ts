import type { Transport } from '../transports/types.js';
import { addAddress, type PortableIp } from './portable-ip.js';

/** Re-adds the portable IP on the hosts it was taken from; says what happened, for a failure message. */
export async function putBack(hosts: Transport[], ip: PortableIp): Promise<string> {
  if (hosts.length === 0) return `${ip.cidr} is on no host`;
  const results = await Promise.allSettled(hosts.map((t) => addAddress(t, ip)));
  const names = hosts.map((t) => t.host);
  const failed = names.filter((_, i) => results[i]!.status === 'rejected');
  return failed.length === 0
    ? `${ip.cidr} was put back on ${names.join(', ')}`
    : `${ip.cidr} could not be put back on ${failed.join(', ')}: add it by hand (${failed.map((h) => `\`ip addr add ${ip.cidr} dev ${ip.ifaceOf(h)}\` on ${h}`).join(', ')})`;
}
