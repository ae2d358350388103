import { PG_BIN_DIR, PG_DATA_DIR, PG_LOG_FILE, HOST_LAB_DIR } from './paths.js';

// The start and stop scripts each host keeps under /srv/lab/bin (its own /srv):
// the inventory's database.service.start/stop. They work from an ssh session.

export const PG_START_SCRIPT = `${HOST_LAB_DIR}/bin/wiki-pg-start`;
export const PG_STOP_SCRIPT = `${HOST_LAB_DIR}/bin/wiki-pg-stop`;

const common = `BIN=${PG_BIN_DIR}
PGDATA=${PG_DATA_DIR}
LOG=${PG_LOG_FILE}
cd /
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups -- env HOME=/var/lib/postgresql "$@"; }
# The hosts share the control machine's pid numbers: a pid is this host's postgres only
# when it runs postgres in this host's mount namespace.
ours() {
  [ -n "$1" ] && [ "$(cat /proc/"$1"/comm 2>/dev/null)" = postgres ] &&
    [ "$(readlink /proc/"$1"/ns/mnt 2>/dev/null)" = "$(readlink /proc/self/ns/mnt)" ]
}
pid=$(head -n 1 "$PGDATA/postmaster.pid" 2>/dev/null || true)
`;

/** Starts PostgreSQL in the role its data directory says, clearing what a killed server left behind. */
export const PG_START = `#!/bin/sh
# Start this host's PostgreSQL (mirrorctl lab) in the role its data directory says
# (standby.signal: replica). Like a boot, first clear what a killed server left:
# a postmaster.pid or socket lock file whose pid is not a postgres of this host.
set -e
${common}
install -d -m 2775 -o postgres -g postgres /run/postgresql
if [ -n "$pid" ]; then
  if ours "$pid"; then echo "PostgreSQL is already running (pid $pid)"; exit 0; fi
  echo "removing stale postmaster.pid (pid $pid is not running here)"
  rm -f "$PGDATA/postmaster.pid"
fi
for lock in /run/postgresql/.s.PGSQL.*.lock; do
  [ -e "$lock" ] || continue
  ours "$(head -n 1 "$lock")" || rm -f "$lock" "\${lock%.lock}"
done
as_postgres "$BIN/pg_ctl" -D "$PGDATA" -l "$LOG" -w -t 90 start
`;

/** Fast clean shutdown; a server that is not running (or only left a stale pid file) is fine. */
export const PG_STOP = `#!/bin/sh
# Stop this host's PostgreSQL (mirrorctl lab): fast, clean shutdown; waits for it.
set -e
${common}
if [ -z "$pid" ]; then echo "PostgreSQL is not running"; exit 0; fi
if ! ours "$pid"; then
  echo "PostgreSQL is not running (removing stale postmaster.pid of pid $pid)"
  rm -f "$PGDATA/postmaster.pid"
  exit 0
fi
as_postgres "$BIN/pg_ctl" -D "$PGDATA" -m fast -w -t 90 stop
`;
