import { CommandError } from '../transports/command-error.js';
import { sh } from '../transports/quote.js';
import type { Transport } from '../transports/types.js';
import { conninfoValue } from './conninfo.js';
import { asPostgresUser, type DatabaseSettings } from './postgres-server.js';
import { readRemoteFile, replaceRemoteFile } from './remote-file.js';

// How a standby finds its primary: primary_conninfo in postgresql.auto.conf (written as a
// file: ALTER SYSTEM is impossible while the server is stopped), and standby.signal.

/** primary_conninfo for `host`: replication_user, application_name = host name. */
export function primaryConninfo(database: DatabaseSettings, host: string, primaryAddress: string, passfile: string | null): string {
  const user = database.replication_user ?? database.user;
  const parts = [`host=${primaryAddress}`, `port=${database.port}`, `user=${conninfoValue(user)}`, `application_name=${conninfoValue(host)}`];
  if (passfile) parts.push(`passfile=${conninfoValue(passfile)}`);
  return parts.join(' ');
}

/** Replaces any primary_conninfo line of postgresql.auto.conf (creating the file when missing). */
export async function setPrimaryConninfo(transport: Transport, database: DatabaseSettings, value: string, timeoutMs: number): Promise<void> {
  const file = `${database.data_dir}/postgresql.auto.conf`;
  const line = `primary_conninfo = '${value.replace(/'/g, "''")}'\n`;
  const current = await readRemoteFile(transport, file, timeoutMs);
  if (!current) {
    const created = await transport.exec(asPostgresUser(database, sh`umask 077 && cat > ${file}`), { timeoutMs, input: line });
    if (created.exitCode !== 0) throw new CommandError(created);
    return;
  }
  const kept = current.text.split('\n').filter((l, i, all) => !/^\s*primary_conninfo\s*=/.test(l) && !(i === all.length - 1 && l === ''));
  const text = [...kept, line.trimEnd()].join('\n') + '\n';
  if (text !== current.text) await replaceRemoteFile(transport, file, text, current.sha256, timeoutMs);
}

/** standby.signal in, recovery.signal out: the server starts as a streaming standby. */
export async function markStandby(transport: Transport, database: DatabaseSettings, timeoutMs: number): Promise<void> {
  const signals = await transport.exec(
    asPostgresUser(database, sh`touch ${`${database.data_dir}/standby.signal`} && rm -f ${`${database.data_dir}/recovery.signal`}`),
    { timeoutMs },
  );
  if (signals.exitCode !== 0) throw new CommandError(signals);
}
