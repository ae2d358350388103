// postgres.* actions against the lab's real PostgreSQL 15 pair: web1 primary, web2 streaming replica.
// Every assertion about the databases is made by asking PostgreSQL in the host (psql over
// its socket, through nsenter), never by trusting mirrorctl's own output.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/inventory/load.js';
import { databaseState } from '../../src/site/database-state.js';
import { pgQuery } from '../../src/site/postgres.js';
import { discoverRoles } from '../../src/site/roles.js';
import { HostPool } from '../../src/transports/pool.js';
import { quote } from '../../src/transports/quote.js';
import { PG_PORT } from '../../src/lab/paths.js';
import { events, runCli } from '../helpers/cli.js';
import { ensureLab, type LabHostName, type TestLab } from '../helpers/lab.js';

const BIN = '/usr/lib/postgresql/15/bin';
const DATA = '/var/lib/postgresql/15/main';
const AS_POSTGRES = 'cd / && setpriv --reuid=postgres --regid=postgres --init-groups -- env HOME=/var/lib/postgresql';
// As the postgres OS user on the socket: the lab's only login without a password (peer).
const PSQL = `${AS_POSTGRES} ${BIN}/psql -X -q -At -h /run/postgresql -p ${PG_PORT} -U postgres -d wiki -v ON_ERROR_STOP=1`;

let lab: TestLab;
let dir: string;
let switchBook: string;
let promoteBook: string;

/** One SQL statement on a host's PostgreSQL, through psql on its socket; the rows as text. */
async function sql(host: LabHostName, query: string): Promise<string> {
  const result = await lab.hostExec(host, `${PSQL} -c ${quote(query)}`, { timeoutMs: 30_000 });
  if (result.exitCode !== 0) throw new Error(`psql on ${host}: ${result.stderr.trim()}`);
  return result.stdout.trim();
}

async function role(host: LabHostName): Promise<'primary' | 'replica' | 'down'> {
  const result = await lab.hostExec(host, `${PSQL} -c 'SELECT pg_is_in_recovery()'`, { timeoutMs: 10_000 });
  if (result.exitCode !== 0) return 'down';
  return result.stdout.trim() === 't' ? 'replica' : 'primary';
}

/** sender_host and status of the host's WAL receiver ("" when it has none). */
async function receiver(host: LabHostName): Promise<string> {
  return sql(host, "SELECT coalesce(sender_host, '') || ' ' || status FROM pg_stat_wal_receiver");
}

/** Polls until `condition` holds (bounded; the bound is a safety net, not an assertion). */
async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await sleep(200);
  }
}

function run(playbook: string, ...set: string[]) {
  return runCli(['run', playbook, '-c', lab.inventory, '--state-dir', join(dir, 'state'), '--yes', '--json', ...set.flatMap((s) => ['--set', s])], {
    timeoutMs: 300_000,
  });
}

function checks(stdout: string, phase: 'plan' | 'run') {
  return events(stdout).filter((e) => e.event === 'step.check' && e.phase === phase && !String(e.step).startsWith('preflight'));
}

function outcomes(stdout: string): Record<string, string> {
  const ends = events(stdout).filter((e) => e.event === 'step.end' && !String(e.step).startsWith('preflight'));
  return Object.fromEntries(ends.map((e) => [e.step, e.outcome]));
}

/**
 * Puts the lab back as it started: web1 primary, web2 streaming from it. A primary web2
 * is rewound from web1 with the same action the tests exercise; anything stranger (no
 * primary at all) gets the lab rebuilt.
 */
async function restoreBaseline(): Promise<void> {
  await sql('web2', 'SELECT pg_wal_replay_resume()').catch(() => undefined);
  const deviations = await lab.deviations().catch(() => ['unknown']);
  if (deviations.length === 0) return;
  if ((await role('web1')) === 'replica') await sql('web1', 'SELECT pg_promote(true, 60)').catch(() => undefined);
  if ((await role('web1')) === 'down') await lab.hostExec('web1', '/srv/lab/bin/wiki-pg-start', { timeoutMs: 120_000 });
  if ((await role('web1')) === 'primary') {
    const rejoin = join(dir, 'restore-rejoin.yaml');
    writeFileSync(rejoin, 'name: restore\nsummary: web2 back to a replica of web1\nsteps:\n  - id: rejoin\n    action: postgres.rejoin\n    host: web2\n    with: { primary: web1 }\n    timeout: 120s\n');
    await run(rejoin);
  }
  if ((await lab.deviations().catch(() => ['unknown'])).length > 0) await ensureLab();
}

/** A playbook that stops a host's database and rejoins it (each test writes its own: tests may run alone). */
function writeRejoinBook(): string {
  const rejoin = join(dir, 'pg-rejoin.yaml');
  writeFileSync(
    rejoin,
    `name: pg-rejoin\nsummary: make a host a replica again\nparams:\n  host: { required: true }\n  primary: { required: true }\nsteps:\n  - id: stop-db\n    action: postgres.stop\n    host: "{{ params.host }}"\n    with: { if_crashed: accept }\n  - id: rejoin\n    action: postgres.rejoin\n    host: "{{ params.host }}"\n    with: { primary: "{{ params.primary }}" }\n    timeout: 120s\n`,
  );
  return rejoin;
}

beforeAll(async () => {
  lab = await ensureLab();
  dir = mkdtempSync(join(tmpdir(), 'mirrorctl-pg-'));
  switchBook = join(dir, 'pg-switch.yaml');
  writeFileSync(
    switchBook,
    `name: pg-switch
summary: The database part of a switchover
params:
  to: { required: true }
  from: { required: true }
steps:
  - id: stop-old
    action: postgres.stop
    host: "{{ params.from }}"
  - id: wait-replay
    action: postgres.wait-replay
    host: "{{ params.to }}"
    with: { lsn: "{{ steps.stop-old.lsn }}" }
  - id: promote
    action: postgres.promote
    host: "{{ params.to }}"
  - id: rejoin-old
    action: postgres.rejoin
    host: "{{ params.from }}"
    with: { primary: "{{ params.to }}" }
    timeout: 120s
`,
  );
  promoteBook = join(dir, 'pg-promote.yaml');
  writeFileSync(
    promoteBook,
    `name: pg-promote
summary: Promote one host, nothing else
params:
  host: { required: true }
  max_lag: { default: "16777216" }
steps:
  - id: promote
    action: postgres.promote
    host: "{{ params.host }}"
    with: { max_lag_bytes: "{{ params.max_lag }}" }
`,
  );
});

afterAll(async () => {
  if (lab) await restoreBaseline();
});

describe('database state through the SSH tunnel', () => {
  it('discovers roles, reports a stopped server as down, and reconnects after it restarts', async () => {
    const inventory = await loadInventory(lab.inventory);
    const pool = new HostPool(inventory);
    try {
      const roles = await discoverRoles(pool, inventory);
      expect(roles.primaries).toEqual(['web1']);
      expect(roles.replicas).toEqual(['web2']);
      const web2 = roles.states.get('web2')!;
      expect(web2.streaming).toBe(true);
      expect(web2.upstreamAddress).toBe(lab.addresses.web1);
      expect(roles.states.get('web1')!.currentLsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);

      await lab.hostExec('web2', '/srv/lab/bin/wiki-pg-stop', { timeoutMs: 120_000 });
      const down = await discoverRoles(pool, inventory);
      expect(down.down).toEqual(['web2']);
      expect(down.primaries).toEqual(['web1']);
      expect(down.unreachable).toEqual([]);

      await lab.hostExec('web2', '/srv/lab/bin/wiki-pg-start', { timeoutMs: 120_000 });
      const rows = await pgQuery<{ r: boolean }>(pool, inventory, 'web2', 'SELECT pg_is_in_recovery() AS r');
      expect(rows).toEqual([{ r: true }]);
      await until('web2 streams again', async () => (await databaseState(pool, inventory, 'web2')).streaming);
    } finally {
      await pool.closeAll();
    }
  });
});

describe('postgres.promote', () => {
  it('blocks (exit 3) while replay is paused on the replica and it lags beyond max_lag_bytes', async () => {
    await sql('web2', 'SELECT pg_wal_replay_pause()');
    try {
      await sql('web1', "INSERT INTO writes (note) SELECT repeat('x', 1000) FROM generate_series(1, 1000)");
      await until('web2 receives the writes', async () => {
        const bytes = await sql('web2', 'SELECT pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())');
        return Number(bytes) > 1000;
      });
      const result = await run(promoteBook, 'host=web2', 'max_lag=1000');
      expect(result.code, result.stderr).toBe(3);
      const [check] = checks(result.stdout, 'plan');
      expect(check).toMatchObject({ step: 'promote', status: 'blocked' });
      expect(check!.summary).toMatch(/paused/);
      expect(check!.summary).toMatch(/more than max_lag_bytes 1000/);
      expect(await role('web2')).toBe('replica');
    } finally {
      await sql('web2', 'SELECT pg_wal_replay_resume()');
    }
    await until('web2 catches up', async () => Number(await sql('web1', `SELECT count(*) FROM pg_stat_replication WHERE replay_lsn = pg_current_wal_lsn()`)) === 1);
  });
});

describe('switchover and split, database steps', () => {
  it('stop → wait-replay → promote loses no committed row; the old primary rejoins without a rewind', async () => {
    const tag = `pgtest-${Date.now()}`;
    // Writes keep going on web1 until its server stops; each id printed was committed.
    const writer = lab.hostExec(
      'web1',
      `i=0; while [ $i -lt 200000 ]; do ${PSQL} -c "INSERT INTO writes (note) VALUES ('${tag}-$i') RETURNING id" 2>/dev/null || break; i=$((i+1)); done`,
      { timeoutMs: 240_000 },
    );
    await until('the writer is writing', async () => Number(await sql('web1', `SELECT count(*) FROM writes WHERE note LIKE '${tag}-%'`)) > 20);

    const result = await run(switchBook, 'to=web2', 'from=web1');
    expect(result.code, result.stderr).toBe(0);
    // The replica may have replayed the final checkpoint before wait-replay's own check: then it is done.
    const ended = outcomes(result.stdout);
    expect(ended).toMatchObject({ 'stop-old': 'changed', promote: 'changed', 'rejoin-old': 'changed' });
    expect(['changed', 'unchanged']).toContain(ended['wait-replay']);
    const rejoined = events(result.stdout).find((e) => e.event === 'step.apply' && e.step === 'rejoin-old')!;
    expect(rejoined.summary).toMatch(/no rewind required/);
    const plan = Object.fromEntries(checks(result.stdout, 'plan').map((c) => [c.step, c]));
    expect(plan['wait-replay']).toMatchObject({ status: 'ready' });
    expect(plan['wait-replay']!.summary).toContain('<steps.stop-old.lsn>');
    expect(plan.promote).toMatchObject({ status: 'ready' });
    expect(plan.promote!.summary).toMatch(/stopped by step stop-old/);
    expect(plan['rejoin-old']).toMatchObject({ status: 'ready' });
    expect(plan['rejoin-old']!.summary).toMatch(/once step promote has promoted it/);

    const committed = (await writer).stdout.split('\n').filter(Boolean).map(Number);
    expect(committed.length).toBeGreaterThan(20);
    expect(await role('web2')).toBe('primary');
    const onWeb2 = new Set((await sql('web2', `SELECT id FROM writes WHERE note LIKE '${tag}-%'`)).split('\n').map(Number));
    expect(committed.filter((id) => !onWeb2.has(id))).toEqual([]);

    expect(await role('web1')).toBe('replica');
    expect(await receiver('web1')).toBe(`${lab.addresses.web2} streaming`);
    const conf = await lab.hostExec('web1', `grep primary_conninfo ${DATA}/postgresql.auto.conf; test -f ${DATA}/standby.signal && echo standby`);
    expect(conf.stdout.match(/primary_conninfo/g)).toHaveLength(1);
    expect(conf.stdout).toContain(`host=${lab.addresses.web2}`);
    expect(conf.stdout).toContain('application_name=web1');
    expect(conf.stdout).toContain('standby');
    await sql('web2', `INSERT INTO writes (note) VALUES ('${tag}-after')`);
    await until('web1 replays web2 writes', async () => (await sql('web1', `SELECT count(*) FROM writes WHERE note = '${tag}-after'`)) === '1');
  });

  it('re-running the finished playbook changes nothing: every step answers done', async () => {
    const result = await run(switchBook, 'to=web2', 'from=web1');
    expect(result.code, result.stderr).toBe(0);
    for (const check of checks(result.stdout, 'plan')) expect(check, check.step).toMatchObject({ status: 'done' });
    expect(outcomes(result.stdout)).toEqual({ 'stop-old': 'unchanged', 'wait-replay': 'unchanged', promote: 'unchanged', 'rejoin-old': 'unchanged' });
    const end = events(result.stdout).find((e) => e.event === 'run.end')!;
    expect(end.changed).toEqual([]);
    expect(await role('web2')).toBe('primary');
    expect(await receiver('web1')).toBe(`${lab.addresses.web2} streaming`);
  });

  it('after a split (web1 promoted while web2 still ran and took writes), rejoin rewinds web2 and it streams from web1', async () => {
    const tag = `pgsplit-${Date.now()}`;
    const promoted = await run(promoteBook, 'host=web1');
    expect(promoted.code, promoted.stderr).toBe(0);
    expect(await role('web1')).toBe('primary');
    expect(await role('web2')).toBe('primary');
    await sql('web1', `INSERT INTO writes (note) VALUES ('${tag}-web1')`);
    await sql('web2', `INSERT INTO writes (note) SELECT '${tag}-web2' FROM generate_series(1, 100)`);
    await sql('web2', 'CHECKPOINT');
    const timelineBefore = Number(await sql('web2', 'SELECT timeline_id FROM pg_control_checkpoint()'));

    const rejoin = writeRejoinBook();
    const dry = await runCli(['run', rejoin, '-c', lab.inventory, '--state-dir', join(dir, 'state'), '--dry-run', '--json', '--set', 'host=web2', '--set', 'primary=web1']);
    expect(dry.code, dry.stderr).toBe(0);
    const dryRejoin = checks(dry.stdout, 'plan').find((c) => c.step === 'rejoin')!;
    expect(dryRejoin).toMatchObject({ status: 'ready' });
    expect(dryRejoin.summary).toMatch(/pg_rewind/);
    expect(await role('web2')).toBe('primary');

    const result = await run(rejoin, 'host=web2', 'primary=web1');
    expect(result.code, result.stderr).toBe(0);
    expect(outcomes(result.stdout)).toMatchObject({ 'stop-db': 'changed', rejoin: 'changed' });
    const applied = events(result.stdout).find((e) => e.event === 'step.apply' && e.step === 'rejoin')!;
    expect(applied.summary).toMatch(/rewound with pg_rewind/);

    expect(await role('web2')).toBe('replica');
    expect(await receiver('web2')).toBe(`${lab.addresses.web1} streaming`);
    await until('web2 has web1 rows', async () => (await sql('web2', `SELECT count(*) FROM writes WHERE note = '${tag}-web1'`)) === '1');
    expect(await sql('web2', `SELECT count(*) FROM writes WHERE note = '${tag}-web2'`)).toBe('0');
    const web1Timeline = Number(await sql('web1', "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int"));
    expect(web1Timeline).toBeGreaterThan(timelineBefore);
    expect(Number(await sql('web2', 'SELECT received_tli FROM pg_stat_wal_receiver'))).toBe(web1Timeline);
    const control = await lab.hostExec('web2', `${AS_POSTGRES} ${BIN}/pg_controldata -D ${DATA} | grep 'cluster state'`);
    expect(control.stdout).toMatch(/in archive recovery/);
    expect(await lab.deviations()).toEqual([]);
  });

  it('a crashed primary (postmaster killed) rejoins after a failover, and a switchover brings the site back', async () => {
    await restoreBaseline();
    const tag = `pgcrash-${Date.now()}`;
    await sql('web1', `INSERT INTO writes (note) VALUES ('${tag}-before')`);
    await until('web2 has the row', async () => (await sql('web2', `SELECT count(*) FROM writes WHERE note = '${tag}-before'`)) === '1');
    await lab.hostExec('web1', `kill -9 "$(head -n 1 ${DATA}/postmaster.pid)"`);
    await until('web1 is down', async () => (await role('web1')) === 'down');

    // A crashed primary is never taken for a cleanly stopped one: a switchover blocks and names failover.
    const switchover = await runCli(['switchover', '--dry-run', '--json', '-c', lab.inventory, '--state-dir', join(dir, 'state')]);
    expect(switchover.code, switchover.stderr).toBe(3);
    const stopOld = checks(switchover.stdout, 'plan').find((c) => c.step === 'stop-old')!;
    expect(stopOld.status).toBe('blocked');
    expect(stopOld.summary).toMatch(/crashed .*mirrorctl failover --to web2/);

    const promoted = await run(promoteBook, 'host=web2');
    expect(promoted.code, promoted.stderr).toBe(0);
    const check = checks(promoted.stdout, 'plan')[0]!;
    expect(check.summary).toMatch(/received .* and replayed/);
    await sql('web2', `INSERT INTO writes (note) VALUES ('${tag}-web2')`);

    const rejoin = writeRejoinBook();
    const result = await run(rejoin, 'host=web1', 'primary=web2');
    expect(result.code, result.stderr).toBe(0);
    const stopCheck = checks(result.stdout, 'plan').find((c) => c.step === 'stop-db')!;
    expect(stopCheck).toMatchObject({ status: 'done' });
    expect(stopCheck.summary).toMatch(/not cleanly/);
    expect(result.stderr).toMatch(/not shut down cleanly/);
    const applied = events(result.stdout).find((e) => e.event === 'step.apply' && e.step === 'rejoin')!;
    expect(applied.summary).toMatch(/crash recovery in single-user mode/);
    expect(await role('web1')).toBe('replica');
    expect(await receiver('web1')).toBe(`${lab.addresses.web2} streaming`);
    await until('web1 has web2 rows', async () => (await sql('web1', `SELECT count(*) FROM writes WHERE note = '${tag}-web2'`)) === '1');

    const back = await run(switchBook, 'to=web1', 'from=web2');
    expect(back.code, back.stderr).toBe(0);
    expect(await role('web1')).toBe('primary');
    expect(await role('web2')).toBe('replica');
    expect(await receiver('web2')).toBe(`${lab.addresses.web1} streaming`);
    expect(await sql('web1', `SELECT count(*) FROM writes WHERE note LIKE '${tag}-%'`)).toBe('2');
    expect(await lab.deviations()).toEqual([]);
  });
});

describe('a promotion that stalls past the step timeout', () => {
  it('is withdrawn: the replica does not promote itself once it can, and the same command then completes', async () => {
    await restoreBaseline();
    const stallBook = join(dir, 'pg-stall.yaml');
    writeFileSync(
      stallBook,
      `name: pg-stall\nsummary: Promote one host, waiting 3 s at most\nparams:\n  host: { required: true }\nsteps:\n  - id: promote\n    action: postgres.promote\n    host: "{{ params.host }}"\n    timeout: 3s\n`,
    );
    // The replica's startup process is the one that acts on a promote request: stopped, the
    // request waits, as it would behind a stuck process or a long replay.
    const found = await lab.hostExec('web2', `ps -o pid=,args= --ppid "$(head -n 1 ${DATA}/postmaster.pid)" | awk '/startup/ { print $1 }'`);
    const startup = found.stdout.trim();
    expect(startup, found.stderr).toMatch(/^\d+$/);
    await lab.hostExec('web2', `kill -STOP ${startup}`);
    let stalled: Awaited<ReturnType<typeof run>>;
    try {
      stalled = await run(stallBook, 'host=web2');
    } finally {
      await lab.hostExec('web2', `kill -CONT ${startup}`);
    }
    expect(stalled.code, stalled.stderr).toBe(1);
    expect(stalled.stderr).toMatch(/web2 did not leave recovery within 3 s of pg_promote; the request was withdrawn .*so web2 will not promote itself later/);
    expect((await lab.hostExec('web2', `test -e ${DATA}/promote && echo present || echo absent`)).stdout.trim()).toBe('absent');
    // Running again, its startup process would have promoted web2 by now had the request stood.
    await sleep(2000);
    expect(await role('web2')).toBe('replica');
    expect(await receiver('web2')).toBe(`${lab.addresses.web1} streaming`);

    // What the sentence says to do (run the same command again) completes.
    const again = await run(stallBook, 'host=web2');
    expect(again.code, again.stderr).toBe(0);
    expect(outcomes(again.stdout)).toEqual({ promote: 'changed' });
    expect(await role('web2')).toBe('primary');
    await restoreBaseline();
  });
});
