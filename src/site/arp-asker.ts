import type { HostPool } from '../transports/pool.js';
import type { Transport } from '../transports/types.js';
import { segmentInterface } from './arp.js';
import type { PortableIp } from './portable-ip.js';

/** A machine that can ask ARP for the portable IP, and from which interface. */
export interface ArpAsker {
  name: string;
  transport: Transport;
  iface: string;
}

/** Who asks ARP after a claim: the control machine when it is on the segment, else a released holder (else another known host). */
export async function arpAsker(pool: HostPool, ip: PortableIp, target: string, released: string[]): Promise<ArpAsker | null> {
  const local = await pool.local();
  const dev = await segmentInterface(local, ip.address);
  if (dev && (await local.exec('command -v arping', { timeoutMs: 5000 })).exitCode === 0) {
    return { name: `the control machine (${dev})`, transport: local, iface: dev };
  }
  const candidates = [...released, ...ip.hosts.filter((h) => h !== target && !released.includes(h))];
  for (const name of candidates) {
    if (await pool.reachable(name)) return { name, transport: await pool.get(name), iface: ip.ifaceOf(name) };
  }
  return null;
}
