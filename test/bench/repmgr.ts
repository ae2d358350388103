import { setTimeout as sleep } from 'node:timers/promises';
import type { LabHostName } from '../../src/lab/paths.js';
import { LAB_HOSTS, PASSWORD_ENV, PG_PORT, PG_REPLICATION_USER, SSH_PORT, nsenterArgs, run, userHome } from './product.js';
import { AS_POSTGRES, PG_BIN_DIR, PG_DATA_DIR, PGPASS, PSQL, sql, writePgpass, type BenchLab } from './lab-site.js';
import { timedRun, type TimedRun } from './timed-process.js';

// repmgr (Debian's postgresql-15-repmgr) set up on the lab's two hosts as its
// documentation recommends: a repmgr superuser and database, repmgr.conf per node
// (node_id, node_name, conninfo, data_directory, pg_bindir, service start/stop
// commands), primary and standby registered, passwordless SSH between the hosts as
// the postgres OS user. Replication slots off (the lab streams without them).
//
// On the production-like lab (since 2026-12-02), only connection details differ: the
// PostgreSQL port; the repmgr role's password and the replication role (the lab's
// pg_hba.conf allows replication only to it) in the postgres OS user's ~/.pgpass, as
// repmgr's documentation recommends (and replication_user in repmgr.conf); SSH
// between the hosts no longer as postgres but, as on a production site that refuses every
// login but its operator account, as the lab's login user on the lab's SSH port
// (ssh_options), whose sudo runs repmgr's remote commands as postgres: repmgr_bindir
// names a one-line wrapper doing that. postgres's key on each host is authorized for the
// login user for the bench's duration. (The first version unlocked postgres for sshd with
// a bind-mounted copy of /etc/shadow in each host; on the production-like lab its sshd
// allows only the login user, and that copy was detached whenever a user was added or
// removed on the control machine, which other labs now do.)

const PACKAGE = 'postgresql-15-repmgr';
const REPMGR = `${PG_BIN_DIR}/repmgr`;
/** Same path on both hosts (each host's own /var/lib/postgresql), different contents. */
const CONF = '/var/lib/postgresql/repmgr.conf';
const PG_HOME = '/var/lib/postgresql';
/** The wrapper's directory (repmgr_bindir), the same on both hosts. */
const WRAPPER_DIR = '/srv/lab/repmgr-bin';
/** The lab's sshd configuration on each host (src/lab/sshd.ts); the first version edited it. */
const SSHD_CONFIG = '/srv/lab/ssh/sshd_config';

/** Installs the Debian package when it is missing; returns null or why it could not. */
export async function ensureRepmgrInstalled(progress: (line: string) => void): Promise<string | null> {
  const installed = await run('dpkg-query', ['-W', '-f=${Status}', PACKAGE]);
  if (installed.stdout.includes('install ok installed')) return null;
  progress(`installing ${PACKAGE} (apt-get)`);
  const env = ['env', 'DEBIAN_FRONTEND=noninteractive'];
  let result = await run(env[0]!, [...env.slice(1), 'apt-get', 'install', '-y', '-qq', '--no-install-recommends', PACKAGE], { timeoutMs: 300_000 });
  if (result.exitCode !== 0) {
    await run('apt-get', ['update', '-qq'], { timeoutMs: 300_000 });
    result = await run(env[0]!, [...env.slice(1), 'apt-get', 'install', '-y', '-qq', '--no-install-recommends', PACKAGE], { timeoutMs: 300_000 });
  }
  return result.exitCode === 0 ? null : `apt-get install ${PACKAGE} failed: ${(result.stderr || result.stdout).trim().split('\n').at(-1)}`;
}

function repmgrConf(lab: BenchLab, host: LabHostName): string {
  const id = host === 'web1' ? 1 : 2;
  return [
    `node_id=${id}`,
    `node_name='${host}'`,
    `conninfo='host=${lab.address(host)} port=${PG_PORT} user=repmgr dbname=repmgr connect_timeout=2'`,
    `replication_user='${PG_REPLICATION_USER}'`,
    `data_directory='${PG_DATA_DIR}'`,
    `pg_bindir='${PG_BIN_DIR}'`,
    'use_replication_slots=false',
    `service_start_command='${PG_BIN_DIR}/pg_ctl -D ${PG_DATA_DIR} -l /var/lib/postgresql/15/log -w -t 90 start'`,
    `service_stop_command='${PG_BIN_DIR}/pg_ctl -D ${PG_DATA_DIR} -m fast -w -t 90 stop'`,
    `repmgr_bindir='${WRAPPER_DIR}'`,
    `ssh_options='-q -p ${SSH_PORT} -l ${lab.names.user} -o BatchMode=yes -o ConnectTimeout=5'`,
    '',
  ].join('\n');
}

async function execOk(lab: BenchLab, host: LabHostName, command: string, timeoutMs = 60_000): Promise<string> {
  const result = await lab.exec(host, command, timeoutMs);
  if (result.exitCode !== 0) throw new Error(`${host}: ${(result.stderr || result.stdout).trim().split('\n').slice(-2).join(' / ')}`);
  return result.stdout;
}

/** repmgr run as postgres, whoever calls it: the login user's remote commands go through sudo. */
function wrapper(): string {
  return `#!/bin/sh
# repmgr as postgres (bench: repmgr's remote commands arrive as the lab's login user)
cd /
[ "$(id -un)" = postgres ] && exec ${REPMGR} "$@"
exec sudo -n -u postgres env HOME=${PG_HOME} ${REPMGR} "$@"
`;
}

/**
 * SSH between the hosts for repmgr: postgres's key on each host, authorized for the lab's
 * login user on both (marked with the key's comment, postgres@HOST, for the tear-down),
 * postgres's known_hosts ([address]:port entries, the hosts' root copy), and the wrapper.
 */
async function setUpPostgresSsh(lab: BenchLab): Promise<void> {
  const keys: string[] = [];
  for (const host of LAB_HOSTS) {
    await execOk(lab, host, [
      'set -e',
      `install -d -m 0700 -o postgres -g postgres ${PG_HOME}/.ssh`,
      `[ -f ${PG_HOME}/.ssh/id_ed25519 ] || ${AS_POSTGRES} ssh-keygen -q -t ed25519 -N '' -C postgres@${host} -f ${PG_HOME}/.ssh/id_ed25519`,
      `install -m 0644 -o postgres -g postgres /root/.ssh/known_hosts ${PG_HOME}/.ssh/known_hosts`,
      `install -d -m 0755 ${WRAPPER_DIR}`,
      `cat > ${WRAPPER_DIR}/repmgr <<'WRAPPER'\n${wrapper()}WRAPPER`,
      `chmod 0755 ${WRAPPER_DIR}/repmgr`,
    ].join('\n'));
    keys.push((await execOk(lab, host, `cat ${PG_HOME}/.ssh/id_ed25519.pub`)).trim());
  }
  const file = `${userHome(lab.names)}/.ssh/authorized_keys`;
  for (const host of LAB_HOSTS) {
    await execOk(lab, host, `${removeKeys(file)}\ncat >> ${file} <<'KEYS'\n${keys.join('\n')}\nKEYS`);
  }
}

/** Shell lines dropping postgres@web1/web2 keys from the login user's authorized_keys (in place: owner and mode stay). */
function removeKeys(file: string): string {
  return `if grep -q ' postgres@web[12]$' ${file}; then grep -v ' postgres@web[12]$' ${file} > ${file}.bench; cat ${file}.bench > ${file}; rm -f ${file}.bench; fi`;
}

/** One-time set-up on both hosts; `primary` is the current primary. */
export async function setUpRepmgr(lab: BenchLab, primary: LabHostName): Promise<void> {
  await setUpPostgresSsh(lab);
  for (const host of LAB_HOSTS) {
    await execOk(lab, host, `cat > ${CONF} <<'CONF'\n${repmgrConf(lab, host)}CONF\nchown postgres:postgres ${CONF}`);
  }
  const hasRole = await sql(lab, primary, "SELECT count(*) FROM pg_roles WHERE rolname = 'repmgr'", 'postgres');
  if (hasRole !== '1') await execOk(lab, primary, `${AS_POSTGRES} createuser -h /run/postgresql -p ${PG_PORT} -U postgres --superuser repmgr`);
  // A password for repmgr's TCP logins (scram on every TCP connection), through stdin: the lab's one.
  const password = process.env[PASSWORD_ENV];
  if (!password) throw new Error(`${PASSWORD_ENV} is not set`);
  const set = await lab.exec(primary, `${PSQL} -v ON_ERROR_STOP=1 -d postgres`, 15_000, `ALTER ROLE repmgr PASSWORD '${password}';\n`);
  if (set.exitCode !== 0) throw new Error(`cannot set repmgr's password: ${set.stderr.trim()}`);
  await writePgpass(lab, ['repmgr']);
  const hasDb = await sql(lab, primary, "SELECT count(*) FROM pg_database WHERE datname = 'repmgr'", 'postgres');
  if (hasDb !== '1') await execOk(lab, primary, `${AS_POSTGRES} createdb -h /run/postgresql -p ${PG_PORT} -U postgres -O repmgr repmgr`);
}

/**
 * Before each repmgr run (not timed): the standby streams with application_name = its
 * node name (what `repmgr standby clone` would have written), and both nodes are
 * (re-)registered in their current roles, since mirrorctl and the script move them too.
 */
export async function prepareRepmgr(lab: BenchLab, primary: LabHostName, standby: LabHostName): Promise<void> {
  const conninfo = `host=${lab.address(primary)} port=${PG_PORT} user=${PG_REPLICATION_USER} application_name=${standby} passfile=${PGPASS}`;
  const set = await sql(lab, standby, `ALTER SYSTEM SET primary_conninfo = '${conninfo}'`, 'postgres');
  if (set === null) throw new Error(`cannot set primary_conninfo on ${standby}`);
  await sql(lab, standby, 'SELECT pg_reload_conf()', 'postgres');
  const deadline = Date.now() + 30_000;
  while ((await sql(lab, primary, `SELECT count(*) FROM pg_stat_replication WHERE application_name = '${standby}' AND state = 'streaming'`, 'postgres')) !== '1') {
    if (Date.now() > deadline) throw new Error(`${standby} does not stream from ${primary} as application_name ${standby}`);
    await sleep(100);
  }
  await execOk(lab, primary, `${AS_POSTGRES} ${REPMGR} -f ${CONF} primary register --force 2>&1`);
  await execOk(lab, standby, `${AS_POSTGRES} ${REPMGR} -f ${CONF} standby register --force 2>&1`);
}

/** `repmgr standby switchover` run as postgres on the standby, as its operator would. */
export function repmgrSwitchover(lab: BenchLab, standby: LabHostName): Promise<TimedRun> {
  return timedRun('nsenter', [...nsenterArgs(lab.names, standby), '--', '/bin/sh', '-c', `cd / && ${AS_POSTGRES} ${REPMGR} -f ${CONF} standby switchover 2>&1`], { timeoutMs: 240_000 });
}

/** Takes postgres's keys out of the login user's authorized_keys, and undoes what the first version changed (repmgr's role, database and files stay, harmless). */
export async function tearDownRepmgr(lab: BenchLab): Promise<void> {
  for (const host of LAB_HOSTS) {
    await lab.exec(host, removeKeys(`${userHome(lab.names)}/.ssh/authorized_keys`));
    await lab.exec(host, `if grep -q ' /etc/shadow ' /proc/self/mountinfo; then umount /etc/shadow; fi`);
    await lab.exec(host, `if grep -q '^AllowUsers.* postgres$' ${SSHD_CONFIG}; then sed -i 's/^\\(AllowUsers .*\\) postgres$/\\1/' ${SSHD_CONFIG} && kill -HUP "$(cat /run/sshd.pid)"; fi`);
  }
}
