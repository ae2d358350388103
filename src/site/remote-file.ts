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
 * The script that replaces a file atomically with its stdin (temp file in the same
 * directory, owner and mode copied, then rename) only if it still has the content
 * that was read (`expectSha`; exit 3 otherwise), then runs `reload`. When the reload
 * fails, the previous file is renamed back into place (exit 4). One round trip.
 * The temp file must hash to `newSha` before it replaces anything (exit 5 otherwise): a
 * connection lost while the new content streams in ends `cat` early, and a cut-off file
 * must never take the place of a whole one. Paths are split and hashes cut by the shell
 * itself: every process costs a few milliseconds on a small host.
 */
export function rewriteAndReload(path: string, expectSha: string, newSha: string, reload: string | undefined): string {
  const script = sh`set -e
f=${path}
current=$(sha256sum < "$f")
if [ "\${current%% *}" != ${expectSha} ]; then echo "$f changed since it was checked" >&2; exit 3; fi
case $f in */*) dir=\${f%/*} ;; *) dir=. ;; esac
tmp=$(mktemp "$dir/.\${f##*/}.mirrorctl.XXXXXX")
prev=$(mktemp "$dir/.\${f##*/}.mirrorctl-previous.XXXXXX")
trap 'rm -f "$tmp" "$prev"' EXIT
cat > "$tmp"
new=$(sha256sum < "$tmp")
if [ "\${new%% *}" != ${newSha} ]; then echo "the new $f arrived incomplete; nothing was replaced" >&2; exit 5; fi
chown --reference="$f" "$tmp"
chmod --reference="$f" "$tmp"
cp -p "$f" "$prev"
mv -f "$tmp" "$f"
`;
  if (!reload) return script;
  return script + sh`if ! sh -c ${reload} >&2; then mv -f "$prev" "$f"; exit 4; fi
`;
}

/** Replaces a file atomically with `text`, only if it still has the content we read. */
export async function replaceRemoteFile(host: Transport, path: string, text: string, expectSha: string, timeoutMs: number): Promise<void> {
  const result = await host.exec(rewriteAndReload(path, expectSha, sha256(text), undefined), { timeoutMs, input: text });
  if (result.exitCode !== 0) throw new CommandError(result);
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
