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
 * How the rsyncs of one command reach the sender over one SSH connection (one key exchange
 * and login, ~250 ms under sudo, not one per path). `private`: a master only this command
 * uses, in a directory made for it, closed and removed before it returns: a dry run leaves
 * nothing behind on a host. `shared`: a real run's master, kept 30 s after its last use in a
 * directory only root can enter, so the plan, the re-check, the copy, the verify and the
 * final sync make one connection between the hosts; where that directory cannot be made,
 * each rsync connects on its own.
 */
export type Sharing = 'private' | 'shared';

/** The rsync command itself; `moreSsh` (shell text, such as "$m") is appended to its ssh command. */
function rsyncLine(sender: HostEntry, path: string, dryRun: boolean, moreSsh: string): string {
  const options = `-a --update --itemize-changes --stats${dryRun ? ' --dry-run' : ''}`;
  const remote = sender.ssh.sudo ? ` ${sh`--rsync-path=${'sudo -n rsync'}`}` : '';
  const source = `${sender.address}:${withSlash(path)}`;
  return `rsync ${options} ${sh`-e ${sshCommand(sender)}`}${moreSsh}${remote} ${sh`${source} ${withSlash(path)}`}`;
}

function sshCommand(sender: HostEntry): string {
  return `ssh -p ${sender.ssh.port} -l ${sender.ssh.user} -o BatchMode=yes -o StrictHostKeyChecking=yes -o ConnectTimeout=${CONNECT_TIMEOUT_S} -o ServerAliveInterval=3 -o ServerAliveCountMax=3`;
}

/** Where the receiver keeps its multiplexed SSH connections to the sender (root only). */
const MUX_DIR = '/run/mirrorctl-rsync';
/** A sender that does not answer: rsync's own SSH gives up (the step's timeout still bounds the whole). */
const CONNECT_TIMEOUT_S = 10;

/**
 * The command run on the receiver (under `sudo -n` there when it has `sudo: true`, as every
 * command is) for every path at once: one rsync per path, all pulling from the sender. With
 * the sender's `sudo: true` its rsync runs as `sudo -n rsync`, so files only root may read
 * are copied, and a dry run, made the same way, sees what the copy will. When no master is
 * up yet, the first path's rsync makes the connection (and the master) and the others start
 * once it has logged in: its LocalCommand writes a line to a FIFO the script reads, as does
 * the first rsync when it ends (a connection that failed). Each rsync's answer is four files
 * (a header with its exit status, its stdout, a marker, its stderr), printed by one `cat`
 * once every rsync has ended.
 */
export function rsyncScript(sender: HostEntry, paths: string[], dryRun: boolean, sharing: Sharing, nonce: string): string {
  const run = (i: number, moreSsh: string, after = '') =>
    `{ ${rsyncLine(sender, paths[i]!, dryRun, moreSsh)} >"$d/o${i}" 2>"$d/e${i}"; printf '%s %s %s\\n' ${nonce} ${i} $? >"$d/h${i}"; printf '%s\\n' ${nonce}-err >"$d/s${i}";${after} } &`;
  const others = paths.slice(1).map((_, i) => run(i + 1, '"$m"'));
  const firstLogsIn = [
    // Held open for reading and writing here, so no writer ever waits for a reader.
    'mkfifo "$d/up" && exec 3<>"$d/up" || exit 1',
    // rsync splits its -e at spaces and keeps what is in double quotes together.
    `u="$m -o PermitLocalCommand=yes -o \\"LocalCommand=echo >$d/up\\""`,
    run(0, '"$u"', ' echo >&3;'),
    'read -r up <&3',
  ];
  const lines = ['d=$(mktemp -d) || exit 1'];
  if (sharing === 'private') {
    // Without ControlPersist the master is the first rsync's own ssh: it stays while another
    // rsync uses it and exits with the last, so `wait` returns with it gone. Only a command
    // cut short can leave it: then it is told to exit.
    lines.push(`trap '[ -S "$d/m" ] && ssh -o ControlPath="$d/m" -O exit mirrorctl >/dev/null 2>&1; rm -rf "$d"' EXIT`, `trap 'exit 143' TERM INT HUP`);
    lines.push('m=" -o ControlMaster=auto -o ControlPath=$d/m"');
    lines.push(...(paths.length > 1 ? [...firstLogsIn, ...others] : [run(0, '"$m"')]));
  } else {
    lines.push(`trap 'rm -rf "$d"' EXIT`, `trap 'exit 143' TERM INT HUP`);
    lines.push(`m=; mkdir -p -m 700 ${MUX_DIR} 2>/dev/null && [ -w ${MUX_DIR} ] && m=' -o ControlMaster=auto -o ControlPath=${MUX_DIR}/%C -o ControlPersist=30'`);
    if (paths.length > 1) {
      // A master already up (an earlier step's): every path at once.
      const masterUp = `${sh`ssh -p ${String(sender.ssh.port)} -l ${sender.ssh.user}`} $m -O check ${sh`${String(sender.address)}`} >/dev/null 2>&1`;
      lines.push(`if [ -n "$m" ] && ! ${masterUp}; then`, ...firstLogsIn.map((l) => `  ${l}`), 'else', `  ${run(0, '"$m"')}`, 'fi', ...others);
    } else {
      lines.push(run(0, '"$m"'));
    }
  }
  lines.push('wait', `cat ${paths.map((_, i) => `"$d/h${i}" "$d/o${i}" "$d/s${i}" "$d/e${i}"`).join(' ')} 2>/dev/null`);
  return lines.join('\n');
}

/** Runs rsync (or its dry run) for every path on the receiver in one command, and reads what each sent. */
export async function rsyncAll(receiver: Transport, sender: HostEntry, paths: string[], dryRun: boolean, timeoutMs: number, sharing: Sharing): Promise<RsyncReport[]> {
  const nonce = `@@rsync-${randomBytes(8).toString('hex')}`;
  const result = await receiver.exec(rsyncScript(sender, paths, dryRun, sharing, nonce), { timeoutMs });
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
      const why = result.timedOut ? `rsync timed out after ${result.durationMs} ms` : lastLine(result.stderr) || `rsync on ${receiver.host} exited ${result.exitCode ?? result.signal}`;
      return { path, files: 0, bytes: 0, missing: 0, exitCode: result.exitCode, error: why };
    }
    return { path, ...readStats(part.out), exitCode: part.rc, error: rsyncError(receiver, part.rc, part.err) };
  });
}

/** What went wrong, or null: 24 (source files vanished while copying, uploads being replaced) is not a failure. */
function rsyncError(receiver: Transport, exitCode: number, stderr: string): string | null {
  if (exitCode === 0 || exitCode === 24) return null;
  if (exitCode === 127) return `rsync is not installed on ${receiver.host} (package rsync)`;
  return firstProblem(stderr) || `rsync exited ${exitCode}`;
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
 * The plan's dry runs (rsyncAll): two steps that copy the same files between the same hosts
 * (`sync-files` and `sync-files-final`) share the answer. A dry run's plan keeps its
 * connection private; a real run's plan makes the master its steps then use.
 */
export function plannedDryRun(pool: HostPool, receiver: Transport, sender: HostEntry, paths: string[], timeoutMs: number, sharing: Sharing): Promise<RsyncReport[]> {
  const runs = plannedDryRuns.of(pool);
  const key = JSON.stringify([receiver.host, sender.name, paths, sharing]);
  let pending = runs.get(key);
  if (!pending) {
    pending = rsyncAll(receiver, sender, paths, true, timeoutMs, sharing);
    runs.set(key, pending);
  }
  return pending;
}
