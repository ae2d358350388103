import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LabCommandResult } from '../../src/lab/exec.js';
import type { LabHostName, LabNames } from '../../src/lab/paths.js';
import type { LabState } from '../../src/lab/state.js';
import { LAB_HOSTS, PASSWORD_ENV, PG_BIN_DIR, PG_DATA_DIR, PG_PORT, PG_REPLICATION_USER, PG_SUPERUSER, SESSIONS_FILE, labNames, labStatusAt, labUp, nodeExec, readLabState } from './product.js';

// The bench's own lab and what the bench asks of it directly (nsenter, never through
// mirrorctl): who is primary, who holds the portable IP, is the pair healthy.

export interface BenchLab {
  dir: string;
  names: LabNames;
  state: LabState;
  inventory: string;
  /** XDG_STATE_HOME for every mirrorctl the bench runs. */
  stateHome: string;
  /** Scratch directory for scripts, inventory copies and SSH control sockets. */
  work: string;
  exec(host: LabHostName, command: string, timeoutMs?: number, input?: string): Promise<LabCommandResult>;
  address(host: LabHostName): string;
}

export const AS_POSTGRES = 'setpriv --reuid=postgres --regid=postgres --init-groups -- env HOME=/var/lib/postgresql';
export const PSQL = `${AS_POSTGRES} psql -X -q -At -h /run/postgresql -p ${PG_PORT} -U postgres`;
/** The postgres OS user's password file on each host (its home is /var/lib/postgresql). */
export const PGPASS = '/var/lib/postgresql/.pgpass';
export { PG_BIN_DIR, PG_DATA_DIR, SESSIONS_FILE };

export function otherHost(host: LabHostName): LabHostName {
  return host === 'web1' ? 'web2' : 'web1';
}

/** Brings the lab in `dir` up when it is not (returns whether it was up already). */
export async function openLab(dir: string, progress: (line: string) => void): Promise<{ lab: BenchLab; wasUp: boolean }> {
  const names = labNames(dir);
  const status = await labStatusAt(dir).catch(() => null);
  // "Up" means the lab exists and its network runs; a host whose services stopped is
  // left to the bench's repair, which does not depend on mirrorctl.
  const wasUp = Boolean(status?.up && status.hosts.length === 2);
  if (!wasUp) {
    progress(`bringing the lab up in ${dir}`);
    await labUp({ dir, quiet: true });
  }
  const state = await readLabState(names);
  if (!state) throw new Error(`no lab state in ${dir}`);
  // The database password, as an operator exports it before running mirrorctl: every
  // mirrorctl and hand script the bench starts inherits it (never on a command line).
  process.env[PASSWORD_ENV] = (await readFile(names.passwordFile, 'utf8')).trim();
  const work = join(dir, 'bench');
  await mkdir(join(work, 'cm'), { recursive: true });
  const lab: BenchLab = {
    dir,
    names,
    state,
    inventory: names.inventoryFile,
    stateHome: join(work, 'state'),
    work,
    exec: (host, command, timeoutMs = 60_000, input) => nodeExec(names, host, `cd / && ${command}`, { timeoutMs, input }),
    address: (host) => state.nodes[host].address,
  };
  return { lab, wasUp };
}

/**
 * The postgres OS user's ~/.pgpass on both hosts (mode 600, the password through stdin):
 * how a site with scram passwords gives its hand-written scripts and repmgr the password
 * (repmgr's documentation: "the most secure way"). `extraUsers` adds lines (repmgr's role).
 * Lines of other users (mirrorctl's rejoin writes its own) are kept.
 */
export async function writePgpass(lab: BenchLab, extraUsers: string[] = []): Promise<void> {
  const password = process.env[PASSWORD_ENV];
  if (!password) throw new Error(`${PASSWORD_ENV} is not set`);
  const users = [PG_SUPERUSER, PG_REPLICATION_USER, ...extraUsers];
  const prefixes = users.map((user) => `*:${PG_PORT}:*:${user}:`);
  const keep = prefixes.map((p) => ` -e '${p}'`).join('');
  const script = [
    'set -e; umask 077',
    `f=${PGPASS}`,
    'touch "$f" && chmod 600 "$f" && chown postgres:postgres "$f"',
    `{ grep -v -F${keep} "$f" || true; while IFS= read -r pw; do for p in ${prefixes.map((p) => `'${p}'`).join(' ')}; do printf '%s%s\\n' "$p" "$pw"; done; done; } > "$f.new"`,
    'chmod 600 "$f.new" && chown postgres:postgres "$f.new" && mv -f "$f.new" "$f"',
  ].join('\n');
  for (const host of LAB_HOSTS) {
    const result = await lab.exec(host, script, 15_000, `${password}\n`);
    if (result.exitCode !== 0) throw new Error(`cannot write ${PGPASS} on ${host}: ${result.stderr.trim()}`);
  }
}

/** Runs SQL on a host's server over its socket; null when the server does not answer. */
export async function sql(lab: BenchLab, host: LabHostName, query: string, db = 'wiki'): Promise<string | null> {
  const result = await lab.exec(host, `${PSQL} -d ${db} -c "${query.replace(/"/g, '\\"')}"`, 15_000);
  return result.exitCode === 0 ? result.stdout.trim() : null;
}

export interface Layout {
  roles: Record<LabHostName, 'primary' | 'replica' | 'down'>;
  ipHolders: LabHostName[];
  sessions: Record<LabHostName, string>;
  /** The host streaming from the primary, when there is one primary. */
  streaming: LabHostName[];
}

/** What the site looks like right now, asked of each host directly. */
export async function siteLayout(lab: BenchLab): Promise<Layout> {
  const per = await Promise.all(
    LAB_HOSTS.map(async (host) => {
      const recovery = await sql(lab, host, 'SELECT pg_is_in_recovery()', 'postgres');
      const ip = await lab.exec(host, `ip -4 -o addr show dev ${lab.state.nodes[host].iface}`, 10_000);
      const sessions = await lab.exec(host, `sed -n 's/^session.backend *= *//p' ${SESSIONS_FILE}`, 10_000);
      return {
        role: recovery === null ? ('down' as const) : recovery === 't' ? ('replica' as const) : ('primary' as const),
        holdsIp: ip.stdout.includes(` ${lab.state.portableCidr} `),
        sessions: sessions.stdout.trim() || 'unknown',
      };
    }),
  );
  const roles = { web1: per[0]!.role, web2: per[1]!.role };
  const primaries = LAB_HOSTS.filter((h) => roles[h] === 'primary');
  let streaming: LabHostName[] = [];
  if (primaries.length === 1) {
    const rows = await sql(lab, primaries[0]!, "SELECT client_addr FROM pg_stat_replication WHERE state = 'streaming'", 'postgres');
    streaming = LAB_HOSTS.filter((h) => (rows ?? '').split('\n').includes(lab.address(h)));
  }
  return {
    roles,
    ipHolders: LAB_HOSTS.filter((_, i) => per[i]!.holdsIp),
    sessions: { web1: per[0]!.sessions, web2: per[1]!.sessions },
    streaming,
  };
}

/** The primary of a healthy pair (one primary holding the IP alone, sessions read-write, the other streaming), else null. */
export function healthyPrimary(layout: Layout): LabHostName | null {
  const primaries = LAB_HOSTS.filter((h) => layout.roles[h] === 'primary');
  if (primaries.length !== 1) return null;
  const primary = primaries[0]!;
  const ok =
    layout.roles[otherHost(primary)] === 'replica' &&
    layout.streaming.includes(otherHost(primary)) &&
    layout.ipHolders.length === 1 &&
    layout.ipHolders[0] === primary &&
    layout.sessions[primary] === 'database';
  return ok ? primary : null;
}

/** Waits (bounded) for a healthy pair; returns its primary or null. */
export async function waitHealthy(lab: BenchLab, timeoutMs = 20_000): Promise<{ primary: LabHostName | null; layout: Layout }> {
  const deadline = Date.now() + timeoutMs;
  let layout = await siteLayout(lab);
  while (healthyPrimary(layout) === null && Date.now() < deadline) {
    await sleep(250);
    layout = await siteLayout(lab);
  }
  return { primary: healthyPrimary(layout), layout };
}

/** One line describing a layout, for notes and progress. */
export function describeLayout(layout: Layout): string {
  return LAB_HOSTS.map((h) => `${h}: ${layout.roles[h]}${layout.ipHolders.includes(h) ? ' +IP' : ''}${layout.streaming.includes(h) ? ' streaming' : ''} sessions=${layout.sessions[h]}`).join('; ');
}
