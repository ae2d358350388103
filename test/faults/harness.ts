// The fault suite's instruments: a run with a fault injected when a step ends, a writer
// through the portable IP, and a watcher that samples who holds the portable IP on a live
// link. Everything is read from the lab itself, never from mirrorctl's own output.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { expect } from 'vitest';
import { run } from '../../src/lab/exec.js';
import { events, runCli, type CliResult } from '../helpers/cli.js';
import { ensureLab, type LabHostName, type TestLab } from '../helpers/lab.js';
import { inRecovery, ipOn, labCli, psql, startWriter, streamsFrom } from '../helpers/site-state.js';

export const HOSTS: LabHostName[] = ['web1', 'web2'];

/** Calls `onLine` with each line of a child's output as it arrives. */
function eachLine(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', onLine);
}

/**
 * The step boundaries around a switchover's outage: before stop-old; the address on no host
 * and nothing promoted yet (after fence-ip); promoted, the address still on no host (after
 * promote); after move-ip.
 */
export const AROUND_THE_OUTAGE = ['fence-sessions', 'fence-ip', 'promote', 'move-ip'];

/**
 * Where every case starts: a whole site (an earlier case may have failed half-way: then it
 * is rebuilt), no lock; `from` is the primary, `to` the other host.
 */
export async function wholeSite(): Promise<{ lab: TestLab; from: LabHostName; to: LabHostName }> {
  let lab = await ensureLab({ anyState: true });
  if ((await primaryOf(lab)) === null || (await liveHolders(lab)).length !== 1) lab = await ensureLab();
  await labCli(lab, ['unlock', '-y']);
  const from = (await primaryOf(lab))!;
  return { lab, from, to: HOSTS.find((h) => h !== from)! };
}

/**
 * When a fault strikes: a step id (as soon as its `step.end` is printed), a test on each
 * printed event (say, the run-phase `step.check` of a step: its apply is under way), or a
 * trigger of the test's own that calls `fire` (and returns how to disarm it).
 */
export type FaultPoint = string | { event: (event: Record<string, unknown>) => boolean } | { arm: (fire: () => void) => () => void };

/** `mirrorctl ARGS` on the lab; `fault` runs once, at `when`. */
export async function runWithFault(
  lab: TestLab,
  args: string[],
  when: FaultPoint | null,
  fault: (child: ChildProcess) => Promise<void> | void,
  inventory = lab.inventory,
): Promise<CliResult & { faulted: boolean }> {
  let faulted = false;
  let disarm = () => {};
  const matches =
    typeof when === 'string'
      ? (event: Record<string, unknown>) => event.event === 'step.end' && event.step === when
      : when && 'event' in when
        ? when.event
        : () => false;
  const result = await runCli([...args, '--json', '-c', inventory, '--state-dir', `${lab.dir}/state`], {
    timeoutMs: 150_000,
    onSpawn: (child) => {
      const fire = () => {
        if (faulted) return;
        faulted = true;
        void fault(child);
      };
      if (when && typeof when === 'object' && 'arm' in when) disarm = when.arm(fire);
      eachLine(child.stdout!, (line) => {
        let event: Record<string, unknown>;
        try {
          event = JSON.parse(line) as Record<string, unknown>;
        } catch {
          return;
        }
        if (matches(event)) fire();
      });
    },
  });
  disarm();
  return { ...result, faulted };
}

/** Fires the moment the portable IP leaves `host` (`ip monitor address` in its namespace). */
export function whenIpLeaves(lab: TestLab, host: LabHostName): { arm: (fire: () => void) => () => void } {
  return {
    arm(fire) {
      const monitor = spawn('ip', ['-n', lab.netns[host], 'monitor', 'address'], { stdio: ['ignore', 'pipe', 'ignore'] });
      eachLine(monitor.stdout!, (line) => {
        if (line.startsWith('Deleted') && line.includes(` ${lab.portableIp}/`)) fire();
      });
      return () => monitor.kill();
    },
  };
}

/** The command the run's last words say to run next (the first backquoted `mirrorctl …`), without its `-c`. */
export function adviceOf(stderr: string): string[] | null {
  const found = /`(mirrorctl (?:failover|switchover|rejoin)[^`]*)`/.exec(stderr)?.[1];
  if (!found) return null;
  const words = found.split(/\s+/).slice(1);
  const c = words.indexOf('-c');
  if (c >= 0) words.splice(c, 2);
  return words;
}

export interface IpWatch {
  /** Stops watching; adds its counts to `totals`. `split` lists every moment two hosts held the IP, seen either way. */
  stop(): Promise<{ samples: number; split: string[]; arpQuestions: number }>;
}

/** Hosts that have the portable IP on any interface while their link is up (a cut host's address answers nobody). */
export async function liveHolders(lab: TestLab): Promise<LabHostName[]> {
  const live = await Promise.all(
    HOSTS.map(async (host) => {
      const [addresses, link] = await Promise.all([
        run('ip', ['-n', lab.netns[host], '-o', '-4', 'addr', 'show']),
        run('ip', ['-o', 'link', 'show', lab.veth[host]]),
      ]);
      const holds = addresses.stdout.split(/\s+/).some((word) => word.split('/')[0] === lab.portableIp);
      return holds && /[<,]UP[,>]/.test(link.stdout) && !/NO-CARRIER/.test(link.stdout);
    }),
  );
  return HOSTS.filter((_, i) => live[i]);
}

/**
 * Whether both hosts held the portable IP on a live link at one same moment. Two reads
 * are never simultaneous (a move between them would look like a split), so the hosts are
 * read in turn, A B A B, in one shell: the address is on both at once only if one host had
 * it on both sides of a read that found it on the other.
 */
async function bothHeld(lab: TestLab): Promise<boolean> {
  const [a, b] = HOSTS;
  const read = (host: LabHostName) => `ip -n ${lab.netns[host]} -o -4 addr show; echo @@`;
  const links = `ip -o link show ${lab.veth[a]}; echo @@; ip -o link show ${lab.veth[b]}`;
  const out = await run('/bin/sh', ['-c', [read(a), read(b), read(a), read(b), links].join('; ')]);
  const parts = out.stdout.split('@@');
  const holds = parts.slice(0, 4).map((text) => text.split(/\s+/).some((word) => word.split('/')[0] === lab.portableIp));
  const up = parts.slice(4, 6).map((text) => /[<,]UP[,>]/.test(text) && !/NO-CARRIER/.test(text));
  if (!up[0] || !up[1]) return false;
  return (holds[0]! && holds[1]! && holds[2]!) || (holds[1]! && holds[2]! && holds[3]!);
}

/**
 * Watches who holds the portable IP, two ways at once:
 * - every 200 ms, whether both hosts have it on an interface whose link is up (`ip addr` in
 *   their namespaces, read in turn so that a move between two reads is no split);
 * - a passive ARP listener on the lab segment (tcpdump on the bridge, promiscuous, so it sees
 *   frames between other nodes too): every question for the IP (the client's, asked once a
 *   second with `arping -b` from its namespace, the writer's, mirrorctl's own probes) and
 *   every answer. Two MACs answering one question is a split, whoever asked.
 */
export function watchPortableIp(lab: TestLab): IpWatch {
  let running = true;
  let samples = 0;
  const split: string[] = [];
  const loop = (async () => {
    const deadline = Date.now() + 300_000;
    while (running && Date.now() < deadline) {
      const both = await bothHeld(lab);
      samples += 1;
      if (both) split.push(`${new Date().toISOString()} ${HOSTS.join('+')}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  const arp = listenArp(lab);
  return {
    async stop() {
      running = false;
      await loop;
      const heard = await arp.stop();
      split.push(...heard.split);
      totals.samples += samples;
      totals.splitSamples += split.length;
      totals.arpQuestions += heard.questions;
      return { samples, split, arpQuestions: heard.questions };
    },
  };
}

/** The ARP half of the watcher: tcpdump on the bridge, and the client asking for the IP once a second. */
function listenArp(lab: TestLab): { stop(): Promise<{ questions: number; split: string[] }> } {
  const ip = lab.portableIp.replaceAll('.', '\\.');
  // Any question, broadcast or unicast (a kernel re-checking its cache asks the MAC it knows).
  const question = new RegExp(`^(\\S+) ([0-9a-f:]{17}) > [0-9a-f:]{17}, ethertype ARP .*: Request who-has ${ip} .*tell (\\S+),`);
  const answer = new RegExp(`^(\\S+) [0-9a-f:]{17} > ([0-9a-f:]{17}), ethertype ARP .*: Reply ${ip} is-at ([0-9a-f:]{17}),`);
  // Per asker (its MAC): the MACs that answered its latest question. Answers go to the asker's
  // MAC, and each of its questions starts afresh, so a move between two questions is no split.
  const answered = new Map<string, Set<string>>();
  const split: string[] = [];
  let questions = 0;
  const dump = spawn('tcpdump', ['-l', '-n', '-e', '-i', lab.bridge, 'arp'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const dumpExit = new Promise<void>((resolve) => dump.once('close', () => resolve()));
  let dumpError = '';
  dump.once('error', (error) => (dumpError = `tcpdump: ${error.message} (Debian package tcpdump)`));
  dump.stderr!.on('data', (chunk: Buffer) => (dumpError += chunk.toString()));
  eachLine(dump.stdout!, (line) => {
    const asked = question.exec(line);
    // A gratuitous ARP ("tell" the IP itself) is an announcement, not a question.
    if (asked && asked[3] !== lab.portableIp) {
      questions += 1;
      answered.set(asked[2]!, new Set());
      return;
    }
    const said = answer.exec(line);
    const macs = said ? answered.get(said[2]!) : undefined;
    if (!said || !macs) return;
    macs.add(said[3]!);
    if (macs.size === 2) split.push(`${said[1]} arp: ${[...macs].join(' and ')} both answered ${said[2]} for ${lab.portableIp}`);
  });
  const asker = spawn('ip', ['netns', 'exec', lab.netns.client, 'arping', '-b', '-I', lab.iface.client, lab.portableIp], { stdio: 'ignore' });
  const askerExit = new Promise<void>((resolve) => asker.once('close', () => resolve()));
  asker.once('error', () => undefined);
  return {
    async stop() {
      asker.kill('SIGINT');
      await askerExit;
      // Answers to the last question arrive within a millisecond; tcpdump flushes each line (-l).
      await new Promise((resolve) => setTimeout(resolve, 100));
      dump.kill('SIGINT');
      await dumpExit;
      // A listener that never heard a question would make "no split" meaningless.
      if (questions === 0) throw new Error(`the ARP listener on ${lab.bridge} heard no question for ${lab.portableIp}: ${dumpError.trim()}`);
      return { questions, split };
    },
  };
}

/** The site's database primary now (the host not in recovery), or null. */
export async function primaryOf(lab: TestLab): Promise<LabHostName | null> {
  const roles = await Promise.all(HOSTS.map((h) => inRecovery(lab, h).catch(() => null)));
  const primaries = HOSTS.filter((_, i) => roles[i] === false);
  return primaries.length === 1 ? primaries[0]! : null;
}

/** The outcome every fault must end in: one host holds the IP and is the primary; the other streams from it. */
export async function expectServedBy(lab: TestLab, host: LabHostName): Promise<void> {
  expect(await ipOn(lab)).toEqual([host]);
  expect(await inRecovery(lab, host)).toBe(false);
  const other = HOSTS.find((h) => h !== host)!;
  expect(await streamsFrom(lab, other)).toBe(lab.addresses[host]);
}

/** Every acknowledged write is on `primary`. */
export async function expectNoWriteLost(lab: TestLab, primary: LabHostName, acked: number[]): Promise<void> {
  expect(acked.length).toBeGreaterThan(0);
  const present = Number(await psql(lab, primary, `select count(*) from writes where id in (${acked.join(',')})`));
  expect(present).toBe(acked.length);
}

export { events, startWriter };

/** Totals across the suite, printed at the end (README "Reliability" quotes them). */
export const totals = { runs: 0, faults: 0, acked: 0, lost: 0, splitSamples: 0, samples: 0, arpQuestions: 0 };

const PARTITION_TABLE = 'mirrorctl_partition';

/**
 * The control machine loses `host` while the hosts still see each other: inside the host's
 * own network namespace (bridge netfilter would make a rule in the root namespace cut
 * host-to-host traffic too), every IP packet from or to the control machine's address is
 * dropped. ARP is not IP: the host still answers it, as a live host behind a broken route
 * or a firewall would, so it can never be taken for dead by its silence on the segment.
 */
export async function partition(lab: TestLab, host: LabHostName): Promise<void> {
  const rules = [
    `table inet ${PARTITION_TABLE} {`,
    `  chain in { type filter hook input priority 0; policy accept; ip saddr ${lab.addresses.bridge} drop; }`,
    `  chain out { type filter hook output priority 0; policy accept; ip daddr ${lab.addresses.bridge} drop; }`,
    '}',
  ].join('\n');
  const added = await run('ip', ['netns', 'exec', lab.netns[host], 'nft', '-f', '-'], { input: rules });
  if (added.exitCode !== 0) throw new Error(`partition of ${host}: ${added.stderr}`);
}

/** The partition of `host` healed (nothing if there was none). */
export async function heal(lab: TestLab, host: LabHostName): Promise<void> {
  await run('ip', ['netns', 'exec', lab.netns[host], 'nft', 'delete', 'table', 'inet', PARTITION_TABLE]);
}
