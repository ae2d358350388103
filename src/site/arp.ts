import { sh } from '../transports/quote.js';
import { StepFailedError } from '../errors.js';
import { lastLine } from '../transports/last-line.js';
import { segmentDevice } from '../transports/arp-liveness.js';
import type { CommandResult, Transport } from '../transports/types.js';

// ARP questions about the portable IP, with iputils arping. Its -w and -i take whole
// seconds, so every probe here costs up to a second: none of them belongs inside the
// gap between releasing the address on one host and adding it on another.

const MAC = /\[((?:[0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2})\]/;

/** The MACs in arping's "Unicast reply from A [MAC]" lines, lower case, without repeats. */
export function repliesOf(arpingOutput: string): string[] {
  const macs = arpingOutput
    .split('\n')
    .filter((line) => /reply from/i.test(line))
    .map((line) => MAC.exec(line)?.[1]?.toLowerCase())
    .filter((mac): mac is string => mac !== undefined);
  return [...new Set(macs)];
}

/**
 * Every MAC that answers for `address` within `listenMs`, asked from `host` with iputils
 * arping: broadcast requests (-b, one a second, the first at once), no -c (arping would
 * stop at the first reply) and no -D (duplicate detection also stops at the first), so two
 * answering machines are both seen. arping's -w takes whole seconds: `timeout -s INT`
 * stops it after `listenMs` instead (arping prints what it got on SIGINT).
 */
export async function arpResponders(host: Transport, iface: string, address: string, listenMs: number): Promise<string[]> {
  const seconds = (listenMs / 1000).toFixed(3);
  const result = await host.exec(`${sh`timeout -s INT ${seconds} arping -b -I ${iface} ${address}`}; rc=$?; [ $rc -eq 124 ] && rc=0; exit $rc`, { timeoutMs: listenMs + 5000 });
  assertArpingRan(host, result);
  return repliesOf(result.stdout);
}

/** The MAC of the first machine that answers for `address`, or null within a second. */
export async function arpAnswer(host: Transport, iface: string, address: string): Promise<string | null> {
  const result = await host.exec(sh`arping -c 1 -w 1 -I ${iface} ${address}`, { timeoutMs: 5000 });
  assertArpingRan(host, result);
  return repliesOf(result.stdout)[0] ?? null;
}

/**
 * arping exits 1 with nothing on stderr when nobody answered; anything else (not
 * installed, no permission, no such interface, killed) is arping failing, which must
 * never read as "nobody answered".
 */
export function assertArpingRan(host: Transport, result: CommandResult): void {
  if (result.exitCode === 0 || (result.exitCode === 1 && result.stderr.trim() === '')) return;
  const why = result.exitCode === 127
    ? 'it is not installed (package iputils-arping)'
    : result.timedOut
      ? `it timed out after ${result.durationMs} ms`
      : lastLine(result.stderr) || `exit ${result.exitCode ?? result.signal}`;
  throw new StepFailedError(`arping on ${host.host} failed: ${why}`, { hint: `run \`arping -c 1 -I IFACE ADDRESS\` on ${host.host} by hand to see why` });
}

/**
 * Sends `count` gratuitous ARP announcements for `address` in the background (one a second)
 * and returns at once: setsid takes arping out of the command's process group, so neither
 * the remote `timeout` wrapper nor the closing SSH channel ends it.
 */
export async function announce(host: Transport, iface: string, address: string, count: number): Promise<void> {
  if (count <= 0) return;
  await host.exec(announceCommand(iface, address, count), { timeoutMs: 5000 });
}

/** The shell command `announce` runs (also appended to the claim's `ip addr add`). */
export function announceCommand(iface: string, address: string, count: number): string {
  return sh`nohup setsid arping -U -c ${count} -I ${iface} ${address} </dev/null >/dev/null 2>&1 &`;
}

/**
 * The control machine's interface on the address's segment: `ip -o route get` names a
 * `dev` and no `via` gateway. Null when the address is only reached through a router.
 */
export async function segmentInterface(local: Transport, address: string): Promise<string | null> {
  const result = await local.exec(sh`ip -o route get ${address}`, { timeoutMs: 5000 });
  return result.exitCode === 0 ? segmentDevice(result.stdout) : null;
}
