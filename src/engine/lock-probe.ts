// Shell scripts that read a lock where it lives, with that machine's identity and the
// owner's process, in one round trip; and their parser. Run on hosts over their transport
// and on the control machine through a local shell, so both are read the same way.
import { quote, sh } from '../transports/quote.js';
import type { Transport } from '../transports/types.js';
import type { LockSighting } from './lock-judge.js';
import { parseOwner } from './lock-owner.js';
import { parseStartTime, type ProcessSeen } from './machine-identity.js';

/** A lock as read where it lives. */
export interface LockLook extends LockSighting {
  lock: 'absent' | 'held' | 'not-a-directory';
  /** owner.json as read ('' when missing): a removal only goes ahead while it is unchanged. */
  ownerText: string;
  /** The directory's mtime in seconds, as that machine's `stat` printed it. */
  mtime: string;
  /** The script's other answers: `acquired`, `cannot` (why), `mkdir` (why mkdir failed). */
  answers: Record<string, string>;
}

const IDENTITY = `LC_ALL=C; export LC_ALL
m=$(cat /etc/machine-id 2>/dev/null); [ -n "$m" ] || m=$(cat /var/lib/dbus/machine-id 2>/dev/null)
echo "machine_id=$m"
echo "boot_id=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)"
echo "hostname=$(uname -n 2>/dev/null)"
echo "pid_ns=$(readlink /proc/self/ns/pid 2>/dev/null)"`;

// Reads the lock in $d: its age, the owner's process (pid taken from owner.json, digits only), owner.json last.
const LOOK = `if [ -d "$d" ]; then
  echo lock=held
  echo "now=$(date +%s)"
  echo "mtime=$(stat -c %Y "$d" 2>/dev/null)"
  pid=$(sed -n 's/.*"pid": *\\([0-9][0-9]*\\).*/\\1/p' "$d/owner.json" 2>/dev/null | head -n 1)
  if [ -n "$pid" ]; then
    if s=$(head -n 1 "/proc/$pid/stat" 2>/dev/null) && [ -n "$s" ]; then echo "process=$pid running $s"
    elif kill -0 "$pid" 2>/dev/null || kill -0 "$pid" 2>&1 | grep -qi 'not permitted'; then echo "process=$pid running"
    else echo "process=$pid gone"; fi
  fi
  echo "owner:"
  cat "$d/owner.json" 2>/dev/null || :
elif [ -e "$d" ] || [ -L "$d" ]; then echo lock=not-a-directory
else echo lock=absent; fi`;

/** Reads the lock directory `dir` and the machine it lives on. */
export function lookScript(dir: string): string {
  return `d=${quote(dir)}\n${IDENTITY}\n${LOOK}\n`;
}

/**
 * lookScript, but the machine's identity is read only when something is at `dir`: a dry run's
 * look at locks that are (nearly always) absent is one shell test, not five processes.
 */
export function peekScript(dir: string): string {
  return `d=${quote(dir)}\nif [ -e "$d" ] || [ -L "$d" ]; then\n${IDENTITY}\n${LOOK}\nelse echo lock=absent; fi\n`;
}

/** mkdir the lock and write owner.json; when that fails, say why and read what is there instead. */
export function acquireScript(root: string, dir: string, ownerJson: string): string {
  return `LC_ALL=C; export LC_ALL
d=${quote(dir)}
if ! err=$(mkdir -p ${quote(root)} 2>&1); then echo "cannot=$(printf '%s' "$err" | head -n 1)"; exit 0; fi
if err=$(mkdir "$d" 2>&1); then
  if err=$( { printf '%s\\n' ${quote(ownerJson)} > "$d/owner.json"; } 2>&1 ); then echo acquired; exit 0; fi
  rm -rf "$d"; echo "cannot=$(printf '%s' "$err" | head -n 1)"; exit 0
fi
echo "mkdir=$(printf '%s' "$err" | head -n 1)"
${IDENTITY}
${LOOK}
`;
}

/** Removes the lock only while it is the one that was read (same owner.json, same mtime): answers removed, changed or gone. */
export function removeScript(look: Pick<LockLook, 'ownerText' | 'mtime'>, dir: string): string {
  const expected = look.ownerText.replace(/\n+$/, '');
  return sh`d=${dir}; if [ -d "$d" ] && [ "$(cat "$d/owner.json" 2>/dev/null)" = ${expected} ] && [ "$(stat -c %Y "$d" 2>/dev/null)" = ${look.mtime} ]; then rm -rf "$d" && echo removed; elif [ -e "$d" ]; then echo changed; else echo gone; fi`;
}

/** Reads one lock over a transport; a host that does not answer in time gives the reason instead. */
export async function lookAt(transport: Transport, dir: string, timeoutMs = 10_000, script = lookScript): Promise<LockLook | { failed: string }> {
  const result = await transport.exec(script(dir), { timeoutMs }).catch((error: Error) => ({ exitCode: null, timedOut: false, stderr: error.message, stdout: '' }));
  if (result.exitCode !== 0) return { failed: result.timedOut ? `no answer within ${timeoutMs / 1000} s` : result.stderr.trim() || `exit ${result.exitCode}` };
  return parseLook(result.stdout);
}

/** Parses the output of lookScript or acquireScript. */
export function parseLook(stdout: string): LockLook {
  const lines = stdout.split('\n');
  const ownerAt = lines.indexOf('owner:');
  const head = ownerAt < 0 ? lines : lines.slice(0, ownerAt);
  const ownerText = ownerAt < 0 ? '' : lines.slice(ownerAt + 1).join('\n');
  const answers: Record<string, string> = {};
  for (const line of head) {
    const eq = line.indexOf('=');
    if (eq > 0) answers[line.slice(0, eq)] = line.slice(eq + 1);
    else if (line.trim()) answers[line.trim()] = '';
  }
  const owner = ownerText.trim() ? parseOwner(ownerText) : null;
  const now = Number(answers.now);
  const mtime = answers.mtime ?? '';
  const lock = answers.lock === 'held' || answers.lock === 'not-a-directory' ? answers.lock : 'absent';
  return {
    lock,
    here: { machine_id: answers.machine_id ?? '', boot_id: answers.boot_id ?? '', hostname: answers.hostname ?? '', pid_ns: answers.pid_ns ?? '' },
    owner,
    ownerText,
    mtime,
    ageMs: /^\d+$/.test(mtime) && Number.isFinite(now) && answers.now !== '' ? (now - Number(mtime)) * 1000 : null,
    process: processFrom(answers.process, owner?.pid),
    answers,
  };
}

/** "PID running STAT…" / "PID running" / "PID gone", for the pid owner.json names. */
function processFrom(answer: string | undefined, ownerPid: unknown): ProcessSeen | null {
  const match = /^(\d+) (running|gone)(?: (.*))?$/.exec(answer ?? '');
  if (!match || Number(match[1]) !== ownerPid) return null;
  if (match[2] === 'gone') return { state: 'gone' };
  return { state: 'running', startTime: match[3] ? parseStartTime(match[3]) : null };
}
