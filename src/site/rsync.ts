import { randomBytes } from 'node:crypto';
import type { HostEntry } from '../inventory/schema.js';
import { lastLine } from '../transports/last-line.js';
import { sh } from '../transports/quote.js';
import type { HostPool } from '../transports/pool.js';
import type { Transport } from '../transports/types.js';
import { PerRun } from './per-run.js';

// Mirroring uploaded files: rsync runs on the receiving host and pulls from the
// sender over the receiver's own SSH (its key, its known_hosts). --update keeps a
// file that is newer on the receiver; nothing is ever deleted.

export interface RsyncReport {
  path: string;
  /** Regular files sent (or that a dry run would send). */
  files: number;
  /** Their total size in bytes. */
  bytes: number;
  /** Files and directories the receiver does not have at all. */
  missing: number;
  exitCode: number | null;
  error: string | null;
}

/**
 * The rsync command line run on the receiver for one path (under `sudo -n` there when the
 * receiver has `sudo: true`, as every command is). With the sender's `sudo: true`, its
 * rsync runs as `sudo -n rsync` too, so files only root may read are copied, and the dry
 * run of the check, run the same way, sees what the real run will.
 */
export function rsyncCommand(sender: HostEntry, path: string, dryRun: boolean, shareConnection = false): string {
  if (!shareConnection) return rsyncLine(sender, path, dryRun, '');
  // In a real run, one SSH connection from the receiver to the sender shared by its rsyncs
  // (the re-check's dry run, the copy, the verify; both paths; the final sync): each new
  // connection is a key exchange and a login, ~250 ms under sudo. OpenSSH multiplexing, kept
  // 30 s after the last use, in a directory only root can enter; where it cannot be made,
  // rsync connects as before. Never in the plan: a dry run leaves nothing behind on a host
  // (the plan's own sharing, plannedDryRun, closes and removes its master before it returns).
  const mux = `m=; mkdir -p -m 700 ${MUX_DIR} 2>/dev/null && [ -w ${MUX_DIR} ] && m=' -o ControlMaster=auto -o ControlPath=${MUX_DIR}/%C -o ControlPersist=30'`;
  return `${mux}; ${rsyncLine(sender, path, dryRun, '"$m"')}`;
}

/** The rsync command itself; `moreSsh` (shell text, such as "$m") is appended to its ssh command. */
function rsyncLine(sender: HostEntry, path: string, dryRun: boolean, moreSsh: string): string {
  const ssh = `ssh -p ${sender.ssh.port} -l ${sender.ssh.user} -o BatchMode=yes -o StrictHostKeyChecking=yes -o ConnectTimeout=${CONNECT_TIMEOUT_S} -o ServerAliveInterval=3 -o ServerAliveCountMax=3`;
  const source = `${sender.address}:${withSlash(path)}`;
  const options = `-a --update --itemize-changes --stats${dryRun ? ' --dry-run' : ''}`;
  const remote = sender.ssh.sudo ? ` ${sh`--rsync-path=${'sudo -n rsync'}`}` : '';
  return `rsync ${options} ${sh`-e ${ssh}`}${moreSsh}${remote} ${sh`${source} ${withSlash(path)}`}`;
}

/** Where the receiver keeps its multiplexed SSH connections to the sender (root only). */
const MUX_DIR = '/run/mirrorctl-rsync';
/** A sender that does not answer: rsync's own SSH gives up (the step's timeout still bounds the whole). */
const CONNECT_TIMEOUT_S = 10;

/** Runs rsync (or its dry run) for one path on the receiver and reads what it sent. */
export async function rsyncPath(receiver: Transport, sender: HostEntry, path: string, dryRun: boolean, timeoutMs: number, shareConnection = false): Promise<RsyncReport> {
  const result = await receiver.exec(rsyncCommand(sender, path, dryRun, shareConnection), { timeoutMs });
  return { path, ...readStats(result.stdout), exitCode: result.exitCode, error: rsyncError(receiver, result.exitCode, result.timedOut, result.durationMs, result.stderr, result.signal) };
}

/** What went wrong, or null: 24 (source files vanished while copying, uploads being replaced) is not a failure. */
function rsyncError(receiver: Transport, exitCode: number | null, timedOut: boolean, durationMs: number, stderr: string, signal: string | null = null): string | null {
  if (!timedOut && (exitCode === 0 || exitCode === 24)) return null;
  if (exitCode === 127) return `rsync is not installed on ${receiver.host} (package rsync)`;
  if (timedOut) return `rsync timed out after ${durationMs} ms`;
  return firstProblem(stderr) || `rsync exited ${exitCode ?? signal}`;
}

/** Files, bytes and entries new to the receiver, from --itemize-changes and --stats output. */
export function readStats(output: string): { files: number; bytes: number; missing: number } {
  const lines = output.split('\n');
  const files = numberAfter(lines, 'Number of regular files transferred:');
  const bytes = numberAfter(lines, 'Total transferred file size:');
  const missing = lines.filter((l) => /^[>c][fdLDS]\+{9}\s/.test(l)).length;
  return { files, bytes, missing };
}

/** "3 files, 12 kB". */
export function describeCopy(files: number, bytes: number): string {
  return `${files} file${files === 1 ? '' : 's'}, ${formatBytes(bytes)}`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1_000_000) return `${Math.round(bytes / 1000)} kB`;
  if (bytes < 1_000_000_000) return `${(bytes / 1_000_000).toFixed(1)} MB`;
  return `${(bytes / 1_000_000_000).toFixed(1)} GB`;
}

/** Paths (of `paths`) that are not directories on the host; one command. */
export async function missingDirs(host: Transport, paths: string[], timeoutMs: number): Promise<string[]> {
  const tests = paths.map((p) => sh`[ -d ${p} ] || printf '%s\\n' ${p}`).join('; ');
  const result = await host.exec(tests, { timeoutMs });
  return result.stdout.split('\n').filter((l) => l.length > 0);
}

function numberAfter(lines: string[], label: string): number {
  const line = lines.find((l) => l.startsWith(label));
  return line ? Number(line.slice(label.length).replace(/bytes/, '').replace(/[^\d]/g, '')) || 0 : 0;
}

function withSlash(path: string): string {
  return path.endsWith('/') ? path : `${path}/`;
}

/** The line of rsync's stderr that says what went wrong (not its closing "rsync error: ... (code 23)"). */
function firstProblem(text: string): string {
  const lines = text.trim().split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => !l.startsWith('rsync error:')) ?? lines.at(-1) ?? '';
}

/** The plan's rsync dry runs, by receiver, sender and paths (the site does not change while it plans). */
const plannedDryRuns = new PerRun<Map<string, Promise<RsyncReport[]>>>(() => new Map());
/** The plan's looks for the sender's directories, by host and paths. */
const plannedMissing = new PerRun<Map<string, Promise<string[]>>>(() => new Map());

/** missingDirs for the plan: two steps that copy the same paths from the same host share one look. */
export function plannedMissingDirs(pool: HostPool, host: Transport, paths: string[], timeoutMs: number): Promise<string[]> {
  const looks = plannedMissing.of(pool);
  const key = JSON.stringify([host.host, paths]);
  let pending = looks.get(key);
  if (!pending) {
    pending = missingDirs(host, paths, timeoutMs);
    looks.set(key, pending);
  }
  return pending;
}

/**
 * The dry runs for the plan, one per path, in one remote command over one SSH connection
 * from the receiver to the sender: the first rsync's ssh is a private, short-lived
 * ControlMaster (in a directory made for this command, closed and removed before it
 * returns) and the others go through it, all at once as soon as it is up, so a plan makes
 * one key exchange and login, not one per path, and waits for about one rsync. "Up" is
 * told, not polled for: the master's LocalCommand (run once it has logged in) writes a line
 * to a FIFO the script reads, as does the first rsync when it ends (a failed connection). Two steps
 * that copy the same files between the same hosts (`sync-files` and `sync-files-final`)
 * share the answer. Each check of the apply phase runs its own (`rsyncPath`).
 */
export function plannedDryRun(pool: HostPool, receiver: Transport, sender: HostEntry, paths: string[], timeoutMs: number): Promise<RsyncReport[]> {
  const runs = plannedDryRuns.of(pool);
  const key = JSON.stringify([receiver.host, sender.name, paths]);
  let pending = runs.get(key);
  if (!pending) {
    pending = dryRunAll(receiver, sender, paths, timeoutMs);
    runs.set(key, pending);
  }
  return pending;
}

async function dryRunAll(receiver: Transport, sender: HostEntry, paths: string[], timeoutMs: number): Promise<RsyncReport[]> {
  const nonce = `@@rsync-${randomBytes(8).toString('hex')}`;
  // Each rsync's answer in four files: a header with its exit status, its stdout, a marker,
  // its stderr; one `cat` prints them all in order once every rsync has ended.
  const run = (i: number, moreSsh: string, after = '') =>
    `{ ${rsyncLine(sender, paths[i]!, true, moreSsh)} >"$d/o${i}" 2>"$d/e${i}"; printf '%s %s %s\\n' ${nonce} ${i} $? >"$d/h${i}"; printf '%s\\n' ${nonce}-err >"$d/s${i}";${after} } &`;
  const start = (i: number) => run(i, '"$m"');
  const answers = paths.map((_, i) => `"$d/h${i}" "$d/o${i}" "$d/s${i}" "$d/e${i}"`).join(' ');
  const script = [
    'd=$(mktemp -d) || exit 1',
    // Without ControlPersist the master is the first rsync's own ssh: it stays while another
    // rsync uses it and exits with the last, so `wait` returns with it gone. Only a command
    // cut short can leave it: then it is told to exit.
    `trap '[ -S "$d/m" ] && ssh -o ControlPath="$d/m" -O exit mirrorctl >/dev/null 2>&1; rm -rf "$d"' EXIT`,
    `trap 'exit 143' TERM INT HUP`,
    'm=" -o ControlMaster=auto -o ControlPath=$d/m"',
    // The first path's rsync makes the connection (and the master); the others start once
    // it has logged in (or the first rsync ended without a connection) and share it, all at once.
    ...(paths.length > 1
      ? [
          // Held open for reading and writing here, so no writer ever waits for a reader.
          'mkfifo "$d/up" && exec 3<>"$d/up" || exit 1',
          // rsync splits its -e at spaces and keeps what is in double quotes together.
          `u="$m -o PermitLocalCommand=yes -o \\"LocalCommand=echo >$d/up\\""`,
          run(0, '"$u"', ' echo >&3;'),
          'read -r up <&3',
          ...paths.slice(1).map((_, i) => start(i + 1)),
        ]
      : [start(0)]),
    'wait',
    `cat ${answers} 2>/dev/null`,
  ].join('\n');
  const result = await receiver.exec(script, { timeoutMs });
  const parts = new Map<number, { rc: number; out: string; err: string }>();
  for (const chunk of result.stdout.split(`${nonce} `).slice(1)) {
    const header = /^(\d+) (\d+)\n/.exec(chunk);
    if (!header) continue;
    const [out, err = ''] = chunk.slice(header[0].length).split(`${nonce}-err\n`);
    parts.set(Number(header[1]), { rc: Number(header[2]), out: out ?? '', err });
  }
  return paths.map((path, i) => {
    const part = parts.get(i);
    if (!part) {
      const why = result.timedOut ? `rsync timed out after ${result.durationMs} ms` : lastLine(result.stderr) || `the dry run on ${receiver.host} exited ${result.exitCode ?? result.signal}`;
      return { path, files: 0, bytes: 0, missing: 0, exitCode: result.exitCode, error: why };
    }
    return { path, ...readStats(part.out), exitCode: part.rc, error: rsyncError(receiver, part.rc, false, result.durationMs, part.err) };
  });
}
