import { run } from './exec.js';

// Picks the lab's 10.213.N.0/24: N comes from the lab's hash, moved on past any
// subnet that a route or address on the control machine already covers.

interface Prefix {
  network: number;
  bits: number;
}

function toNumber(address: string): number {
  return address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

function parsePrefix(text: string): Prefix | null {
  const match = /^(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?$/.exec(text);
  if (!match) return null;
  const bits = match[2] === undefined ? 32 : Number(match[2]);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return { network: (toNumber(match[1]!) & mask) >>> 0, bits };
}

function overlaps(a: Prefix, b: Prefix): boolean {
  const bits = Math.min(a.bits, b.bits);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return ((a.network & mask) >>> 0) === ((b.network & mask) >>> 0);
}

/** Prefixes already in use on the control machine (routes of every table, except the default route). */
async function usedPrefixes(): Promise<Prefix[]> {
  const routes = await run('ip', ['-4', 'route', 'show', 'table', 'all']);
  const prefixes: Prefix[] = [];
  for (const line of routes.stdout.split('\n')) {
    const first = line.trim().split(/\s+/);
    const destination = ['local', 'broadcast', 'unicast'].includes(first[0] ?? '') ? first[1] : first[0];
    if (!destination || destination === 'default') continue;
    const prefix = parsePrefix(destination);
    if (prefix && prefix.bits > 0) prefixes.push(prefix);
  }
  return prefixes;
}

/** "10.213.N" for a lab with this hash, clashing with no route on the control machine. */
export async function chooseSubnet(hash: string): Promise<string> {
  const used = await usedPrefixes();
  const start = parseInt(hash, 16) % 240;
  for (let i = 0; i < 240; i += 1) {
    const n = 10 + ((start + i) % 240);
    const candidate = parsePrefix(`10.213.${n}.0/24`)!;
    if (!used.some((p) => overlaps(p, candidate))) return `10.213.${n}`;
  }
  throw new Error('No free 10.213.N.0/24 subnet on this machine');
}
