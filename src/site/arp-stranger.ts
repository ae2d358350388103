import type { HostPool } from '../transports/pool.js';
import { macsOf, type PortableIp } from './portable-ip.js';

/**
 * Judges an ARP probe made from the target: a MAC that answers and belongs to no known holder
 * (nor to the target) means another machine uses the address, and claiming it would make two
 * machines answer. Returns that as a sentence, or null.
 */
export async function strangerOnSegment(pool: HostPool, probe: Promise<string[] | Error>, ip: PortableIp, holders: string[], ownMac: string | null, unreachable: string[]): Promise<string | null> {
  const [responders, holderMacs] = await Promise.all([
    probe.then((answer) => {
      if (answer instanceof Error) throw answer;
      return answer;
    }),
    Promise.all(holders.map(async (name) => macsOf(await pool.get(name)))),
  ]);
  const known = [...holderMacs.flat(), ownMac];
  const strangers = responders.filter((mac) => !known.includes(mac));
  if (strangers.length === 0) return null;
  const maybe = unreachable.length > 0 ? ` (${unreachable.join(', ')} does not answer SSH: it may be that host)` : '';
  const macs = strangers.join(', ');
  return `another machine (MAC ${macs}) answers ARP for ${ip.address}${maybe}: find it and remove the address there first`;
}
