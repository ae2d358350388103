import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LabHostName } from '../../src/lab/paths.js';
import { AVATARS_DIR, PG_PORT, PG_REPLICATION_USER, SSH_PORT, UPLOADS_DIR } from './product.js';
import { AS_POSTGRES, PG_BIN_DIR, PG_DATA_DIR, PGPASS, SESSIONS_FILE, writePgpass, type BenchLab } from './lab-site.js';
import { timedRun, type TimedRun } from './timed-process.js';

// The comparison floor: the switchover playbook's raw steps as a hand-written bash
// script over ONE multiplexed OpenSSH connection per host (ControlMaster). The same
// script has the failover, rejoin and "IP move + flush" (after repmgr) variants.
//
// On the production-like lab (since 2026-12-02) only its connection details differ from
// the first version: it logs in as the lab's login user on the SSH port and runs each
// command under `sudo -n` (no root logins); PostgreSQL on its port, the password from the
// postgres OS user's ~/.pgpass (written once when the script is written, never on a
// command line), replication as the replication role; each host's own interface name;
// rsync to the sender as the login user with `sudo -n rsync` there (root-only uploads).
// Its steps and their order are unchanged.

export type HandMode = 'switchover' | 'failover' | 'rejoin' | 'reclone' | 'ip-flush';

/** The script text for this lab (host addresses come as arguments). */
export function handScriptText(lab: BenchLab): string {
  const { names, state } = lab;
  const memcached = [lab.address('web1'), lab.address('web2')].map((a) => `${a}:11211`).join(' ');
  const ifaces = (['web1', 'web2'] as const).map((h) => `[${lab.address(h)}]=${state.nodes[h].iface}`).join(' ');
  return `#!/bin/bash
# Hand-written site move for the mirrorctl lab (bench comparison floor).
# usage: hand-switch.sh switchover|failover|rejoin|reclone|ip-flush FROM_ADDR TO_ADDR FROM_NAME TO_NAME
set -euo pipefail
mode=$1 from=$2 to=$3 from_name=$4 to_name=$5
cidr=${state.portableCidr} ip=${state.portableIp}
data=${PG_DATA_DIR} bin=${PG_BIN_DIR} port=${PG_PORT}
declare -A iface=(${ifaces}) # each host's own interface name, by address
ssh_=(ssh -p ${SSH_PORT} -l ${names.user} -i ${names.identityFile} -o UserKnownHostsFile=${names.knownHostsFile} -o StrictHostKeyChecking=yes
      -o BatchMode=yes -o ConnectTimeout=1 -o ControlMaster=auto -o ControlPath=${lab.work}/cm/%h -o ControlPersist=60)
# No root logins: every command runs as root under sudo -n, quoted for the login user's shell.
on() { local host=$1; shift; "\${ssh_[@]}" "$host" "sudo -n bash -c $(printf %q "cd / && $*")"; }
as_pg="${AS_POSTGRES}"
psql_="$as_pg psql -X -q -At -h /run/postgresql -p $port -U postgres -d postgres"
close() { for h in "$@"; do "\${ssh_[@]}" -O exit "$h" 2>/dev/null || true; done; }

sessions() { # host read-only|read-write
  local value=database; [ "$2" = read-only ] && value=memcache
  on "$1" "sed -i 's/^session.backend *=.*/session.backend = $value/' ${SESSIONS_FILE} && kill -HUP \\$(cat /run/wiki-app.pid)"
}
sync_files() { # from to: rsync on the receiving host, --update, never --delete
  on "$2" "for d in ${UPLOADS_DIR} ${AVATARS_DIR}; do rsync -a --update -e 'ssh -p ${SSH_PORT} -l ${names.user} -o BatchMode=yes -o StrictHostKeyChecking=yes' --rsync-path='sudo -n rsync' $1:\\$d/ \\$d/; done"
}
flush() { # memcached servers given as addr:port
  local pids=() s p
  for s in "$@"; do
    ( exec 3<>"/dev/tcp/\${s%:*}/\${s#*:}" && printf 'flush_all\\r\\n' >&3 && read -r -t 2 reply <&3 && [ "\${reply%$'\\r'}" = OK ] ) &
    pids+=($!)
  done
  for p in "\${pids[@]}"; do wait "$p"; done
}
claim_ip() { # host: add the address, gratuitous ARP in the background
  on "$1" "ip addr replace $cidr dev \${iface[$1]} && setsid -f arping -q -U -c 3 -I \${iface[$1]} $ip >/dev/null 2>&1 </dev/null"
}
wait_streaming() { # primary replica_addr
  on "$1" "for i in \\$(seq 400); do [ \\"\\$($psql_ -c \\"SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' AND client_addr = '$2'\\")\\" = 1 ] && exit 0; sleep 0.05; done; exit 1"
}
rejoin() { # old new old_name rewind?: stop, rewind (after a failover), standby.signal + primary_conninfo, start
  on "$1" "ip addr del $cidr dev \${iface[$1]} 2>/dev/null || true"
  sessions "$1" read-only
  on "$1" "if $as_pg $bin/pg_ctl -D $data status >/dev/null; then $as_pg $bin/pg_ctl -D $data -m fast -w stop >/dev/null; fi"
  if [ "\${4:-}" = rewind ]; then
    # pg_rewind reads the source's control file: a just-promoted primary must checkpoint first.
    on "$2" "$psql_ -c CHECKPOINT"
    on "$1" "$as_pg $bin/pg_rewind --target-pgdata=$data --source-server='host=$2 port=$port user=postgres dbname=postgres passfile=${PGPASS}'"
  fi
  on "$1" "sed -i '/^primary_conninfo/d' $data/postgresql.auto.conf
    echo \\"primary_conninfo = 'host=$2 port=$port user=${PG_REPLICATION_USER} application_name=$3 passfile=${PGPASS}'\\" >> $data/postgresql.auto.conf
    chown postgres:postgres $data/postgresql.auto.conf
    $as_pg touch $data/standby.signal
    $as_pg $bin/pg_ctl -D $data -l /var/lib/postgresql/15/log -w -t 90 start >/dev/null"
  wait_streaming "$2" "$1"
}
reclone() { # old new old_name: last resort, a fresh base backup of the new primary
  on "$1" "ip addr del $cidr dev \${iface[$1]} 2>/dev/null || true"
  on "$1" "if $as_pg $bin/pg_ctl -D $data status >/dev/null; then $as_pg $bin/pg_ctl -D $data -m immediate -w stop >/dev/null; fi
    rm -rf $data && $as_pg $bin/pg_basebackup -h $2 -p $port -U ${PG_REPLICATION_USER} -D $data -R -c fast -X stream --no-sync
    $as_pg $bin/pg_ctl -D $data -l /var/lib/postgresql/15/log -w -t 90 start >/dev/null"
  wait_streaming "$2" "$1"
}

case $mode in
switchover)
  on "$from" true & a=$!; on "$to" true & b=$!; wait $a; wait $b
  sync_files "$from" "$to"
  sessions "$from" read-only
  lsn=$(on "$from" "$as_pg $bin/pg_ctl -D $data -m fast -w stop >/dev/null && $bin/pg_controldata $data | sed -n 's/^Latest checkpoint location: *//p'")
  on "$to" "for i in \\$(seq 6000); do [ \\"\\$($psql_ -c \\"SELECT pg_last_wal_replay_lsn() > '$lsn'::pg_lsn\\")\\" = t ] && exit 0; sleep 0.01; done; exit 1"
  on "$to" "$psql_ -c 'SELECT pg_promote(true, 60)'" | grep -qx t
  sessions "$to" read-write
  on "$from" "ip addr del $cidr dev \${iface[$from]}"
  claim_ip "$to"
  flush ${memcached}
  sync_files "$from" "$to"
  rejoin "$from" "$to" "$from_name"
  curl -fsS -m 5 -o /dev/null "http://$ip/health"
  close "$from" "$to"
  ;;
failover) # the old primary is dead: promote, sessions, claim the IP, flush the survivor's cache
  on "$to" "$psql_ -c 'SELECT pg_promote(true, 60)'" | grep -qx t
  sessions "$to" read-write
  claim_ip "$to"
  flush "$to:11211"
  close "$to"
  ;;
rejoin) # the old primary is back after a failover: fence it, rewind it, make it a replica of the new one
  rejoin "$from" "$to" "$from_name" rewind
  close "$from" "$to"
  ;;
reclone)
  reclone "$from" "$to" "$from_name"
  close "$from" "$to"
  ;;
ip-flush) # after repmgr's switchover: sessions, the IP and the cache
  sessions "$to" read-write
  on "$from" "ip addr del $cidr dev \${iface[$from]} 2>/dev/null || true"
  claim_ip "$to"
  flush ${memcached}
  close "$from" "$to"
  ;;
*) echo "unknown mode $mode" >&2; exit 2 ;;
esac
`;
}

/** Writes the script under the bench's work directory, and the hosts' ~/.pgpass it relies on; returns its path. */
export async function writeHandScript(lab: BenchLab): Promise<string> {
  await writePgpass(lab);
  const path = join(lab.work, 'hand-switch.sh');
  await writeFile(path, handScriptText(lab));
  await chmod(path, 0o755);
  return path;
}

/** Runs one mode of the script, moving the site from `from` to `to`. */
export function runHandScript(lab: BenchLab, mode: HandMode, from: LabHostName, to: LabHostName, timeoutMs = 180_000): Promise<TimedRun> {
  return timedRun('/bin/bash', [join(lab.work, 'hand-switch.sh'), mode, lab.address(from), lab.address(to), from, to], { timeoutMs });
}
