import { execFile } from 'node:child_process';
import { isIPv4 } from 'node:net';

// Spec section 8: on a segment the control machine shares with a host, a host that
// answers none of at least 3 ARP requests for its own address over at least 300 ms may be
// taken as unreachable before the SSH connect timeout ends. A live host's kernel answers
// ARP however loaded the host is, so an overloaded primary is never taken for dead; and
// anything short of a clean "nobody answered" (no arping, no permission to send raw
// packets, an odd route) leaves the full connect timeout in force.
//
// iputils arping takes whole seconds for -i and -w, so the 3 requests come from 3 arpings
// started 150 ms apart, each stopped with SIGINT 60 ms after the last request went out.

export const ARP_REQUESTS = 3;
export const ARP_SPREAD_MS = 300;
/** How long the last request may take to be answered on a LAN (an answer takes well under a millisecond). */
const LAST_ANSWER_MS = 60;

export interface ArpSilence {
  device: string;
  requests: number;
  overMs: number;
}

/**
 * The control machine's interface on the address's segment (`ip -o route get`: a `dev`,
 * no `via` gateway, not a local address); null when the address is reached through a router.
 */
export function segmentDevice(routeGetOutput: string): string | null {
  const line = routeGetOutput.trim();
  if (line === '' || /^local\s/.test(line) || /\svia\s/.test(line)) return null;
  return /\sdev\s+(\S+)/.exec(line)?.[1] ?? null;
}

/**
 * Resolves with what proves the host dead (every request unanswered) or null: an answer,
 * another segment, or arping not able to tell. Never rejects.
 */
export async function arpSilence(address: string, signal: AbortSignal): Promise<ArpSilence | null> {
  if (!isIPv4(address)) return null;
  try {
    const route = await run('ip', ['-o', 'route', 'get', address], signal);
    const device = route.exitCode === 0 ? segmentDevice(route.stdout) : null;
    if (!device || signal.aborted) return null;
    const step = ARP_SPREAD_MS / (ARP_REQUESTS - 1);
    const ask = async (i: number) => {
      await new Promise((resolve) => setTimeout(resolve, i * step));
      if (signal.aborted) return false;
      const seconds = ((ARP_SPREAD_MS - i * step + LAST_ANSWER_MS) / 1000).toFixed(3);
      const r = await run('timeout', ['-s', 'INT', seconds, 'arping', '-c', '1', '-w', '1', '-I', device, address], signal);
      // 124: stopped by timeout with no answer; 1 with a quiet stderr: arping's own "no answer".
      return (r.exitCode === 124 || (r.exitCode === 1 && r.stderr.trim() === '')) && !/reply from/i.test(r.stdout);
    };
    const silent = await Promise.all(Array.from({ length: ARP_REQUESTS }, (_, i) => ask(i)));
    if (signal.aborted || !silent.every(Boolean)) return null;
    return { device, requests: ARP_REQUESTS, overMs: ARP_SPREAD_MS };
  } catch {
    return null;
  }
}

/** A local command without a shell (child_process: no heavy module on this path); never rejects. */
function run(file: string, args: string[], signal: AbortSignal): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { signal, timeout: 5000, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ exitCode: code, stdout, stderr });
    });
  });
}
