import { CommandError } from '../transports/command-error.js';
import { quote } from '../transports/quote.js';
import type { Transport } from '../transports/types.js';
import { databasePassword } from './database-password.js';
import type { DatabaseSettings } from './postgres-server.js';

/**
 * With `password_env`, the password goes into the postgres OS user's ~/.pgpass (mode 0600,
 * through stdin: never on a command line or in output); returns the file's path for
 * primary_conninfo. pg_rewind reads the same file.
 */
export async function writePassfile(transport: Transport, database: DatabaseSettings, primaryAddress: string, timeoutMs: number): Promise<string | null> {
  const password = databasePassword(database);
  if (password === undefined) return null;
  const users = [...new Set([database.user, database.replication_user ?? database.user])];
  const prefixes = users.map((user) => `${pgpassField(primaryAddress)}:${database.port}:*:${pgpassField(user)}:`);
  const lines = prefixes.map((prefix) => `${prefix}${pgpassField(password)}\n`).join('');
  const keep = prefixes.map((prefix) => ` -e ${quote(prefix)}`).join('');
  const script = `set -e
u=$(stat -c %U ${quote(database.data_dir)})
f="$(getent passwd "$u" | cut -d: -f6)/.pgpass"
touch "$f"
tmp=$(mktemp "$f.mirrorctl.XXXXXX")
trap 'rm -f "$tmp"' EXIT
chmod 600 "$tmp"
{ grep -v -F${keep} "$f" || true; cat; } > "$tmp"
chown "$u" "$tmp"
mv -f "$tmp" "$f"
trap - EXIT
echo "$f"`;
  const result = await transport.exec(script, { timeoutMs, input: lines });
  if (result.exitCode !== 0) throw new CommandError(result);
  return result.stdout.trim();
}

function pgpassField(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/:/g, '\\:');
}
