// Runs discovery commands on a host as root: directly when the login is root, else
// through `sudo -n` (never prompting). Which one is found out, not assumed.
import { quote, sh } from '../transports/quote.js';
import type { CommandResult, Transport } from '../transports/types.js';

const TIMEOUT_MS = 20_000;

export interface RootShell {
  /** The login user and whether commands run as root through sudo (null: neither root nor NOPASSWD sudo). */
  readonly login: { user: string; uid: number; sudo: boolean | null };
  /** Runs a command as root when that is possible, else as the login user. */
  run(command: string): Promise<CommandResult>;
  /** Runs a command as `user` (the data directory's owner, say), from `/`. */
  runAs(user: string, command: string): Promise<CommandResult>;
}

/** Finds out how the login reaches root on this host. */
export async function rootShell(transport: Transport): Promise<RootShell> {
  const id = await transport.exec('id -un; id -u', { timeoutMs: TIMEOUT_MS });
  const [user = '?', uidText = ''] = id.stdout.trim().split('\n');
  const uid = Number(uidText);
  let sudo: boolean | null = false;
  if (uid !== 0) sudo = (await transport.exec('sudo -n true', { timeoutMs: TIMEOUT_MS })).exitCode === 0 ? true : null;
  const run = (command: string) => transport.exec(sudo ? `sudo -n /bin/sh -c ${quote(command)}` : command, { timeoutMs: TIMEOUT_MS });
  return {
    login: { user, uid, sudo },
    run,
    runAs: (owner, command) => run(sh`cd / && su ${owner} -s /bin/sh -c ${`LC_ALL=C; export LC_ALL; ${command}`}`),
  };
}
