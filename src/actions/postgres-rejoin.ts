import { z } from 'zod';
import { pgQuery } from '../site/postgres.js';
import { ConfigError, HostUnreachableError, StepFailedError } from '../errors.js';
import { databaseState, type DatabaseState } from '../site/database-state.js';
import {
  asPostgresUser,
  controlData,
  databaseSettings,
  pgBin,
  runService,
  type ControlData,
  type DatabaseSettings,
} from '../site/postgres-server.js';
import { removeStalePidFile, settledPostmaster } from '../site/postmaster.js';
import { readRemoteFile, replaceRemoteFile } from '../site/remote-file.js';
import { CommandError } from '../transports/command-error.js';
import { quote, sh } from '../transports/quote.js';
import type { Transport } from '../transports/types.js';
import { firstLine } from './host-transport.js';
import { addressOf, earlierStepOn, hostOf } from './postgres-common.js';
import { defineAction, type StepContext } from './types.js';

/** Makes a host (a returned old primary, or a stray replica) a streaming replica of `primary`, rewinding it when its timeline diverged. */
export const postgresRejoin = defineAction({
  name: 'postgres.rejoin',
  params: z.object({ primary: z.string().min(1) }).strict(),
  outputs: [],
  needs: ['database'],
  needsHost: true,
  hostsIn: (p) => [p.primary],
  changes: true,
  async check(ctx, p) {
    const host = hostOf(ctx);
    const database = databaseSettings(ctx.inventory);
    checkPair(ctx, host, p.primary);
    const primaryAddress = addressOf(ctx.inventory, p.primary);
    const state = await databaseState(ctx.hosts, ctx.inventory, host);
    if (streamingFrom(state, primaryAddress)) {
      return { status: 'done', summary: `${host} is a replica streaming from ${p.primary} (${primaryAddress}), replayed to ${state.replayLsn}` };
    }
    const promoting = earlierStepOn(ctx, 'postgres.promote', p.primary);
    if (promoting) {
      return { status: 'ready', summary: `will rejoin ${host} (${describe(state)}) as a replica of ${p.primary} once step ${promoting.id} has promoted it; rewind decided then` };
    }
    const primary = await answeringPrimary(ctx, p.primary);
    if (typeof primary === 'string') return { status: 'blocked', summary: primary };
    const control = await controlData(await ctx.hosts.get(host), database, ctx.timeoutMs);
    const timeline = Math.max(control.timeline, state.timeline ?? 0);
    const rewind = rewindFinding(host, p.primary, timeline, primary, control);
    if (rewind.blocked) return { status: 'blocked', summary: rewind.text };
    return { status: 'ready', summary: `will stop ${host} (${describe(state)}), ${rewind.text}, and start it as a replica streaming from ${p.primary} (${primaryAddress})` };
  },
  async apply(ctx, p) {
    const host = hostOf(ctx);
    const database = databaseSettings(ctx.inventory);
    const primaryAddress = addressOf(ctx.inventory, p.primary);
    const transport = await ctx.hosts.get(host);
    const primary = await answeringPrimary(ctx, p.primary);
    if (typeof primary === 'string') throw new StepFailedError(primary);
    // A crashed server may still be settling (children exiting, crash recovery): wait for it.
    const wasRunning = (await settledPostmaster(transport, database, ctx.timeoutMs)) === 'running';
    if (wasRunning) await runService(transport, database, 'stop', ctx.timeoutMs);
    const after = await settledPostmaster(transport, database, ctx.timeoutMs);
    if (after === 'running') {
      throw new StepFailedError(`PostgreSQL on ${host} still runs after \`${database.service.stop}\``, { hint: `stop it by hand, then run again` });
    }
    if (after === 'crashed') await removeStalePidFile(transport, database, ctx.timeoutMs);
    let control = await controlData(transport, database, ctx.timeoutMs);
    const done: string[] = [wasRunning ? `stopped ${host}` : `${host} was stopped`];
    // Before anything on the host connects to the primary (pg_rewind, then the standby itself).
    const passfile = await writePassfile(ctx, transport, database, primaryAddress);
    if (control.timeline !== (primary.timeline ?? 0)) {
      const rewind = rewindFinding(host, p.primary, control.timeline, primary, control);
      if (rewind.blocked) throw new StepFailedError(rewind.text);
      if (!SHUT_DOWN_STATES.includes(control.state)) {
        done.push(await finishCrashRecovery(ctx, transport, database, host, control));
        control = await controlData(transport, database, ctx.timeoutMs);
      }
      // pg_rewind reads the source's control file: a just-promoted primary must have
      // written its end-of-recovery checkpoint, or the rewound server cannot start.
      await pgQuery(ctx.hosts, ctx.inventory, p.primary, 'CHECKPOINT', [], ctx.timeoutMs);
      done.push(await rewindIfDiverged(ctx, transport, database, host, primaryAddress, passfile));
    }
    await setPrimaryConninfo(ctx, transport, database, conninfo(database, host, primaryAddress, passfile));
    const signals = await transport.exec(
      asPostgresUser(database, sh`touch ${`${database.data_dir}/standby.signal`} && rm -f ${`${database.data_dir}/recovery.signal`}`),
      { timeoutMs: ctx.timeoutMs },
    );
    if (signals.exitCode !== 0) throw new CommandError(signals);
    await runService(transport, database, 'start', ctx.timeoutMs);
    done.push(`standby.signal and primary_conninfo (${p.primary}, ${primaryAddress}) written, started`);
    return { summary: done.join('; ') };
  },
  async verify(ctx, p) {
    const host = hostOf(ctx);
    const primaryAddress = addressOf(ctx.inventory, p.primary);
    const state = await databaseState(ctx.hosts, ctx.inventory, host);
    const ok = streamingFrom(state, primaryAddress);
    const summary = ok
      ? `${host} streams from ${p.primary} (${primaryAddress}) on timeline ${state.timeline}, replayed to ${state.replayLsn}`
      : `${host} is not streaming from ${p.primary} yet (${describe(state)})`;
    return { ok, summary };
  },
});

function checkPair(ctx: StepContext, host: string, primary: string): void {
  const hosts = databaseSettings(ctx.inventory).hosts;
  if (primary === host) throw new ConfigError(`step ${ctx.stepId}: ${host} cannot rejoin itself`, { hint: 'set with.primary to the other database host' });
  if (!hosts.includes(primary) || !hosts.includes(host)) {
    throw new ConfigError(`step ${ctx.stepId}: ${host} and ${primary} must both be in database.hosts`, { hint: `database.hosts is [${hosts.join(', ')}]` });
  }
}

function streamingFrom(state: DatabaseState, address: string): boolean {
  return state.role === 'replica' && state.streaming && state.upstreamAddress === address;
}

function describe(state: DatabaseState): string {
  if (state.role === 'down') return 'its server is down';
  if (state.role === 'primary') return `running as a primary on timeline ${state.timeline}`;
  return `a replica ${state.streaming ? `streaming from ${state.upstreamAddress}` : 'not streaming'}`;
}

/** The primary's state, or why it cannot serve as one (a sentence). */
async function answeringPrimary(ctx: StepContext, primary: string): Promise<DatabaseState | string> {
  try {
    const state = await databaseState(ctx.hosts, ctx.inventory, primary);
    if (state.role === 'down') return `PostgreSQL on ${primary} is down: there is no primary to rejoin`;
    if (state.role === 'replica') return `${primary} is in recovery (a replica), not a primary: promote it first`;
    return state;
  } catch (error) {
    if (error instanceof HostUnreachableError) return `${primary} does not answer: there is no primary to rejoin`;
    throw error;
  }
}

/**
 * Whether a rewind may be needed, and whether the cluster allows it (wal_log_hints or checksums).
 * Any timeline difference may mean diverged histories, whichever number is higher: in a split
 * the host being rejoined can be the one promoted last. `pg_rewind --dry-run` decides at apply.
 */
function rewindFinding(host: string, primary: string, timeline: number, primaryState: DatabaseState, control: ControlData): { blocked: boolean; text: string } {
  const primaryTimeline = primaryState.timeline ?? 0;
  if (timeline === primaryTimeline) return { blocked: false, text: `no rewind (both on timeline ${timeline})` };
  const relation = `timeline ${timeline}, ${primary} on ${primaryTimeline}`;
  if (!control.walLogHints && !control.checksums) {
    return { blocked: true, text: `${host} is on ${relation}: pg_rewind may be needed but ${host}'s cluster has neither wal_log_hints = on nor data checksums` };
  }
  return { blocked: false, text: `pg_rewind when its history diverged (${host} on ${relation}; wal_log_hints ${control.walLogHints ? 'on' : 'off'}, checksums ${control.checksums ? 'on' : 'off'})` };
}

/** States pg_rewind accepts without crash recovery first (postgres-stop also counts a rewound "in archive recovery" as clean). */
const SHUT_DOWN_STATES = ['shut down', 'shut down in recovery'];

/**
 * pg_rewind needs a cleanly shut down target, and its --dry-run does not finish a crashed
 * server's recovery (the real run would): do it here, as pg_rewind does, in single-user mode
 * (no network listener, so nothing can write to the old primary meanwhile).
 */
async function finishCrashRecovery(ctx: StepContext, transport: Transport, database: DatabaseSettings, host: string, control: ControlData): Promise<string> {
  const config = database.config_file ? sh` -c ${`config_file=${database.config_file}`}` : '';
  const signals = sh`rm -f ${`${database.data_dir}/standby.signal`} ${`${database.data_dir}/recovery.signal`}`;
  const single = `${sh`${pgBin(database, 'postgres')} --single -F -D ${database.data_dir}`}${config} template1 < /dev/null 2>&1`;
  const result = await transport.exec(asPostgresUser(database, `${signals} && ${single}`), { timeoutMs: ctx.timeoutMs });
  if (result.exitCode !== 0) {
    throw new StepFailedError(`crash recovery of ${host} in single-user mode failed: ${firstLine(result.stdout) || `exit ${result.exitCode}`}`, {
      hint: `${host}'s cluster was "${control.state}"; start and stop it cleanly by hand, then run again`,
    });
  }
  return `finished ${host}'s crash recovery in single-user mode (it was "${control.state}")`;
}

/** pg_rewind --dry-run decides; pg_rewind itself runs only when the histories diverged. */
async function rewindIfDiverged(ctx: StepContext, transport: Transport, database: DatabaseSettings, host: string, primaryAddress: string, passfile: string | null): Promise<string> {
  const parts = [`host=${conninfoValue(primaryAddress)}`, `port=${database.port}`, `user=${conninfoValue(database.user)}`, `dbname=${conninfoValue(database.dbname)}`];
  if (passfile) parts.push(`passfile=${conninfoValue(passfile)}`);
  const source = parts.join(' ');
  const rewind = (dryRun: boolean) =>
    asPostgresUser(database, `${sh`${pgBin(database, 'pg_rewind')} ${`--target-pgdata=${database.data_dir}`} ${`--source-server=${source}`}`}${dryRun ? ' --dry-run' : ''} 2>&1`);
  const dry = await transport.exec(rewind(true), { timeoutMs: ctx.timeoutMs });
  if (dry.exitCode !== 0) throw new StepFailedError(`pg_rewind --dry-run on ${host} failed: ${firstLine(dry.stdout) || `exit ${dry.exitCode}`}`);
  if (/no rewind required/i.test(dry.stdout)) return 'no rewind required (pg_rewind --dry-run)';
  const real = await transport.exec(rewind(false), { timeoutMs: ctx.timeoutMs });
  if (real.exitCode !== 0) throw new StepFailedError(`pg_rewind on ${host} failed: ${firstLine(real.stdout) || `exit ${real.exitCode}`}`, { hint: `see the output of pg_rewind on ${host}; its data directory may need a new base backup` });
  const diverged = /servers diverged at WAL location \S+ on timeline \d+/i.exec(dry.stdout)?.[0];
  return `rewound with pg_rewind${diverged ? ` (${diverged})` : ''}`;
}

/** primary_conninfo for this host: replication_user, application_name = host name. */
function conninfo(database: DatabaseSettings, host: string, primaryAddress: string, passfile: string | null): string {
  const user = database.replication_user ?? database.user;
  const parts = [`host=${primaryAddress}`, `port=${database.port}`, `user=${conninfoValue(user)}`, `application_name=${conninfoValue(host)}`];
  if (passfile) parts.push(`passfile=${conninfoValue(passfile)}`);
  return parts.join(' ');
}

function conninfoValue(value: string): string {
  return /^[A-Za-z0-9_.\-/]+$/.test(value) ? value : `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Replaces any primary_conninfo line of postgresql.auto.conf (ALTER SYSTEM is impossible while stopped). */
async function setPrimaryConninfo(ctx: StepContext, transport: Transport, database: DatabaseSettings, value: string): Promise<void> {
  const file = `${database.data_dir}/postgresql.auto.conf`;
  const line = `primary_conninfo = '${value.replace(/'/g, "''")}'\n`;
  const current = await readRemoteFile(transport, file, ctx.timeoutMs);
  if (!current) {
    const created = await transport.exec(asPostgresUser(database, sh`umask 077 && cat > ${file}`), { timeoutMs: ctx.timeoutMs, input: line });
    if (created.exitCode !== 0) throw new CommandError(created);
    return;
  }
  const kept = current.text.split('\n').filter((l, i, all) => !/^\s*primary_conninfo\s*=/.test(l) && !(i === all.length - 1 && l === ''));
  const text = [...kept, line.trimEnd()].join('\n') + '\n';
  if (text !== current.text) await replaceRemoteFile(transport, file, text, current.sha256, ctx.timeoutMs);
}

/**
 * With `password_env`, the password goes into the postgres OS user's ~/.pgpass (mode 0600,
 * through stdin: never on a command line or in output); returns the file's path for
 * primary_conninfo. pg_rewind reads the same file.
 */
async function writePassfile(ctx: StepContext, transport: Transport, database: DatabaseSettings, primaryAddress: string): Promise<string | null> {
  const name = database.password_env;
  if (!name) return null;
  const password = process.env[name];
  if (password === undefined) throw new ConfigError(`environment variable ${name} (database.password_env) is not set`, { hint: `export ${name}=... before running mirrorctl` });
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
  const result = await transport.exec(script, { timeoutMs: ctx.timeoutMs, input: lines });
  if (result.exitCode !== 0) throw new CommandError(result);
  return result.stdout.trim();
}

function pgpassField(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/:/g, '\\:');
}
