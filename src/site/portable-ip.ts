import { randomBytes } from 'node:crypto';
import { ConfigError, HostUnreachableError, StepFailedError } from '../errors.js';
import type { Inventory } from '../inventory/schema.js';
import type { HostPool } from '../transports/pool.js';
import { lastLine } from '../transports/last-line.js';
import { sh } from '../transports/quote.js';
import { announceCommand } from './arp.js';
import type { Transport } from '../transports/types.js';

// The portable IP as the hosts see it: who holds it (on any interface, whatever
// prefix length is written there), adding it on a host's own interface, removing it
// from every interface that has it.

const ASK_TIMEOUT_MS = 10_000;

/** The inventory's portable_ip section, split into what commands need. */
export interface PortableIp {
  /** As in the inventory: "a.b.c.d/nn". */
  cidr: string;
  /** Without the prefix: what ARP asks for. */
  address: string;
  /** The interface a host adds the address on: hosts.NAME.interface, else portable_ip.interface. */
  ifaceOf(host: string): string;
  hosts: string[];
  arpCount: number;
  /** How long the claim's ARP probe listens for other holders. */
  arpProbeMs: number;
}

export function portableIp(inventory: Inventory): PortableIp {
  const section = inventory.doc.portable_ip;
  if (!section) throw new ConfigError(`${inventory.file}: section "portable_ip" is missing`, { hint: 'add portable_ip (address and interface)' });
  return {
    cidr: section.address,
    address: section.address.split('/')[0]!,
    ifaceOf(host: string): string {
      const iface = inventory.doc.hosts[host]?.interface ?? section.interface;
      if (!iface) throw new ConfigError(`${inventory.file}: no interface for the portable IP on ${host}`, { hint: `add hosts.${host}.interface or portable_ip.interface` });
      return iface;
    },
    hosts: section.hosts ?? inventory.doc.database?.hosts ?? [],
    arpCount: section.arp_count,
    arpProbeMs: section.arp_probe_ms,
  };
}

export interface IpHolders {
  holders: string[];
  unreachable: string[];
  /** null: the host did not answer. */
  perHost: Map<string, boolean | null>;
}

/** Which of portable_ip.hosts (plus `extra`) hold the address: one `ip -o addr show` each, in parallel. */
export async function ipHolders(pool: HostPool, inventory: Inventory, extra: string[] = [], known: Map<string, Promise<boolean>> = new Map()): Promise<IpHolders> {
  const ip = portableIp(inventory);
  const names = [...new Set([...ip.hosts, ...extra])];
  const answers = await Promise.all(
    names.map(async (name): Promise<boolean | null> => {
      if (!(await pool.reachable(name))) return null;
      try {
        // `known`: hosts already being asked, in a command of the caller's own.
        return await (known.get(name) ?? holdsOn(await pool.get(name), ip));
      } catch (error) {
        // A host that dies while it is asked counts as one that does not answer.
        if (error instanceof HostUnreachableError) return null;
        throw error;
      }
    }),
  );
  const perHost = new Map(names.map((name, i) => [name, answers[i]!]));
  return {
    holders: names.filter((_, i) => answers[i] === true),
    unreachable: names.filter((_, i) => answers[i] === null),
    perHost,
  };
}

/** Whether the host has the address on any of its interfaces. */
export async function holdsOn(host: Transport, ip: PortableIp, timeoutMs = ASK_TIMEOUT_MS): Promise<boolean> {
  const result = await host.exec('ip -o -4 addr show', { timeoutMs });
  if (result.exitCode !== 0) {
    throw new StepFailedError(`cannot list the addresses on ${host.host} (\`ip -o -4 addr show\`): ${lastLine(result.stderr) || `exit ${result.exitCode ?? result.signal}`}`);
  }
  return hasAddress(result.stdout, ip.address);
}

/** True when `ip -o addr` output lists the address (any prefix length). */
export function hasAddress(ipAddrOutput: string, address: string): boolean {
  return interfacesWith(ipAddrOutput, address).length > 0;
}

/** The interfaces an `ip -o addr` listing shows the address on (any prefix length). */
export function interfacesWith(ipAddrOutput: string, address: string): string[] {
  const found = ipAddrOutput.split('\n').flatMap((line) => {
    const words = line.trim().split(/\s+/);
    const at = words.indexOf('inet');
    return at > 0 && words[at + 1]?.split('/')[0] === address ? [words[1]!.replace(/@.*$/, '')] : [];
  });
  return [...new Set(found)];
}

/** What a host has of the tools and the interface the portable IP needs. */
export interface InterfaceReport {
  missingTools: string[];
  exists: boolean;
  /** Administratively up (the UP flag). */
  up: boolean;
  /** Has a carrier (LOWER_UP). */
  carrier: boolean;
  mac: string | null;
}

/** Debian/RHEL package that provides each tool, for "install X" findings. */
export const PACKAGE_OF: Record<string, string> = { ip: 'iproute2', arping: 'iputils-arping' };

/**
 * Which tools are missing, whether the interface exists, is up and its MAC. Read with
 * `ip link`, not /sys/class/net: a sysfs mounted in another network namespace (containers,
 * the lab's hosts) shows that namespace's interfaces.
 */
function inspectCommand(iface: string, tools: string[]): string {
  const lookups = tools.map((tool) => sh`command -v ${tool} >/dev/null 2>&1 || echo ${`missing ${tool}`}`).join('; ');
  const link = sh`if command -v ip >/dev/null 2>&1; then ip -o link show dev ${iface} 2>/dev/null || echo absent; elif [ ! -e /sys/class/net/${iface} ]; then echo absent; fi`;
  return `${lookups}; ${link}`;
}

/**
 * Whether the interface can carry the address (the tools there, the interface up with a
 * carrier) and, in the same remote command, whether the host holds the address already
 * (as `holdsOn`): right before a claim the target is asked both in one round trip.
 */
export function inspectAndAsk(host: Transport, iface: string, tools: string[], ip: PortableIp, timeoutMs = ASK_TIMEOUT_MS): { report: Promise<InterfaceReport>; holds: Promise<boolean> } {
  const marker = `@@addresses-${randomBytes(8).toString('hex')}`;
  const both = host.exec(`${inspectCommand(iface, tools)}; printf '%s\\n' ${marker}; ip -o -4 addr show`, { timeoutMs }).then((result) => {
    const at = result.stdout.indexOf(`${marker}\n`);
    const inspected = { ...result, stdout: at < 0 ? result.stdout : result.stdout.slice(0, at) };
    const listed = at < 0 ? null : result.stdout.slice(at + marker.length + 1);
    return { inspected, listed, result };
  });
  const report = both.then(({ inspected }) => readInspection(host, iface, inspected));
  const holds = both.then(({ listed, result }) => {
    if (listed === null || result.exitCode !== 0) {
      throw new StepFailedError(`cannot list the addresses on ${host.host} (\`ip -o -4 addr show\`): ${lastLine(result.stderr) || `exit ${result.exitCode ?? result.signal}`}`);
    }
    return hasAddress(listed, ip.address);
  });
  // Whichever the caller awaits first, the other's rejection is not left unhandled.
  report.catch(() => undefined);
  holds.catch(() => undefined);
  return { report, holds };
}

function readInspection(host: Transport, iface: string, result: { exitCode: number | null; stdout: string; stderr: string }): InterfaceReport {
  if (result.exitCode !== 0) throw new StepFailedError(`cannot inspect ${iface} on ${host.host}: ${lastLine(result.stderr) || `exit ${result.exitCode}`}`);
  const lines = result.stdout.split('\n');
  const missingTools = lines.filter((l) => l.startsWith('missing ')).map((l) => l.slice('missing '.length));
  const linkLine = lines.find((l) => /^\d+:\s/.test(l)) ?? '';
  const flags = (/<([^>]*)>/.exec(linkLine)?.[1] ?? '').split(',');
  return { missingTools, exists: !lines.includes('absent'), up: flags.includes('UP'), carrier: flags.includes('LOWER_UP'), mac: macIn(linkLine) };
}

/** Why the interface cannot carry the address on this host, or null when it can. */
export function interfaceProblem(report: InterfaceReport, host: string, iface: string, needUp: boolean): string | null {
  if (report.missingTools.length > 0) {
    const list = report.missingTools.map((t) => `\`${t}\` (package ${PACKAGE_OF[t] ?? t})`).join(' and ');
    return `${host} lacks ${list}: install it`;
  }
  if (!report.exists) return `interface ${iface} does not exist on ${host}`;
  if (needUp && !report.up) return `interface ${iface} on ${host} is down`;
  if (needUp && !report.carrier) return `interface ${iface} on ${host} has no carrier (cable or link down)`;
  return null;
}

/** The MAC address of the interface on a host (`ip -o link show`), or null. */
export async function macOf(host: Transport, iface: string, timeoutMs = ASK_TIMEOUT_MS): Promise<string | null> {
  const result = await host.exec(sh`ip -o link show dev ${iface}`, { timeoutMs });
  return result.exitCode === 0 ? macIn(result.stdout) : null;
}

/** Every MAC of the host's interfaces (one `ip -o link show`): a holder answers ARP from any of them. */
export async function macsOf(host: Transport, timeoutMs = ASK_TIMEOUT_MS): Promise<string[]> {
  const result = await host.exec('ip -o link show', { timeoutMs });
  if (result.exitCode !== 0) throw new StepFailedError(`cannot list the interfaces of ${host.host} (\`ip -o link show\`): ${lastLine(result.stderr) || `exit ${result.exitCode ?? result.signal}`}`);
  return result.stdout.split('\n').map(macIn).filter((mac): mac is string => mac !== null);
}

function macIn(ipLinkOutput: string): string | null {
  return /link\/ether\s+([0-9a-fA-F:]{17})/.exec(ipLinkOutput)?.[1]?.toLowerCase() ?? null;
}

/**
 * `ip addr add` on the host's own interface (an address already there is fine); throws
 * StepFailedError naming the host when it fails. With `announce` > 0 the same remote command
 * then starts that many gratuitous ARP in the background (see site/arp.ts `announce`), so the
 * first one leaves the host the moment the address is up, not one round trip later.
 */
export async function addAddress(host: Transport, ip: PortableIp, options: { announce?: number; timeoutMs?: number } = {}): Promise<void> {
  const iface = ip.ifaceOf(host.host);
  const add = sh`err=$(ip addr add ${ip.cidr} dev ${iface} 2>&1 >/dev/null) || case "$err" in *'File exists'*|*'already assigned'*) ;; *) printf '%s\n' "$err" >&2; exit 1 ;; esac`;
  const count = options.announce ?? 0;
  const command = count > 0 ? `${add}; ${announceCommand(iface, ip.address, count)}` : add;
  const result = await host.exec(command, { timeoutMs: options.timeoutMs ?? ASK_TIMEOUT_MS });
  if (result.timedOut) {
    // Whether the address went up is not known: said as a host that stopped answering.
    throw new HostUnreachableError(host.host, `${host.host} did not answer within ${result.durationMs} ms while ${ip.cidr} was being added to ${iface}`);
  }
  if (result.exitCode !== 0) {
    throw new StepFailedError(`could not add ${ip.cidr} to ${iface} on ${host.host}: ${lastLine(result.stderr) || `exit ${result.exitCode ?? result.signal}`}`);
  }
}

/** What a removal did: the interfaces it took the address from, and whether the host holds it after. */
export interface Removal {
  /** The interfaces it was removed from (none: it was not there). */
  interfaces: string[];
  /** Whether the host still has it, from its address list right after the removal. */
  stillHeld: boolean;
}

/**
 * Removes the address from every interface of the host that has it, with the prefix
 * length written there, and lists the host's addresses again, in one command.
 */
export async function removeAddress(host: Transport, ip: PortableIp, timeoutMs = ASK_TIMEOUT_MS): Promise<Removal> {
  const marker = `@@after-${randomBytes(8).toString('hex')}`;
  const remove = sh`ip -o -4 addr show | { rc=0; while read -r _ dev _ cidr _; do [ "\${cidr%/*}" = ${ip.address} ] || continue; dev=\${dev%%@*}; if ip addr del "$cidr" dev "$dev"; then echo "$dev"; else rc=1; fi; done; exit $rc; }`;
  const result = await host.exec(`${remove}; rc=$?; printf '%s\\n' ${marker}; ip -o -4 addr show; exit $rc`, { timeoutMs });
  const at = result.stdout.indexOf(`${marker}\n`);
  if (result.exitCode !== 0 || at < 0) {
    throw new StepFailedError(`could not remove ${ip.address} from ${host.host}: ${lastLine(result.stderr) || `exit ${result.exitCode ?? result.signal}`}`);
  }
  return { interfaces: result.stdout.slice(0, at).split('\n').filter(Boolean), stillHeld: hasAddress(result.stdout.slice(at + marker.length + 1), ip.address) };
}
