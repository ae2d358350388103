import { createHash } from 'node:crypto';
import { CommandError } from '../transports/command-error.js';
import { sh } from '../transports/quote.js';
import type { Transport } from '../transports/types.js';

export interface RemoteFile {
  text: string;
  writable: boolean;
  sha256: string;
}

/** Reads a file on a host and whether it is writable; null when it does not exist. */
export async function readRemoteFile(host: Transport, path: string, timeoutMs: number): Promise<RemoteFile | null> {
  const result = await host.exec(sh`if [ -f ${path} ]; then if [ -w ${path} ]; then echo w; else echo r; fi; cat ${path}; else echo missing; fi`, { timeoutMs });
  if (result.exitCode !== 0) throw new CommandError(result);
  const newline = result.stdout.indexOf('\n');
  const flag = result.stdout.slice(0, newline === -1 ? undefined : newline);
  if (flag === 'missing') return null;
  const text = newline === -1 ? '' : result.stdout.slice(newline + 1);
  return { text, writable: flag === 'w', sha256: sha256(text) };
}

/**
 * Replaces a file atomically (temp file in the same directory, owner and mode
 * copied, then rename), only if it still has the content we read (`expectSha`).
 */
export async function replaceRemoteFile(host: Transport, path: string, text: string, expectSha: string, timeoutMs: number): Promise<void> {
  const script = sh`set -e
f=${path}
current=$(sha256sum < "$f" | cut -d' ' -f1)
if [ "$current" != ${expectSha} ]; then echo "$f changed since it was checked" >&2; exit 3; fi
tmp=$(mktemp "$(dirname "$f")/.$(basename "$f").mirrorctl.XXXXXX")
trap 'rm -f "$tmp"' EXIT
cat > "$tmp"
chown --reference="$f" "$tmp"
chmod --reference="$f" "$tmp"
mv -f "$tmp" "$f"
trap - EXIT`;
  const result = await host.exec(script, { timeoutMs, input: text });
  if (result.exitCode !== 0) throw new CommandError(result);
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
