import { StepFailedError } from '../errors.js';
import { sh } from '../transports/quote.js';
import type { Transport } from '../transports/types.js';
import type { DatabaseSettings } from './postgres-server.js';

// Whether a postmaster runs on the data directory, judged from postmaster.pid the way
// PostgreSQL itself does, but without taking a zombie for a live server: a postmaster
// killed with SIGKILL leaves its children exiting for a moment (they still hold the
// shared memory segment recorded in postmaster.pid), and its pid may linger as a
// zombie. A server starting up (crash recovery) or shutting down says so in line 8.

/** running: a live postmaster that is ready (or a ready standby); stopped: no postmaster.pid; crashed: a postmaster.pid whose server is gone (stale). */
export type PostmasterState = 'running' | 'stopped' | 'crashed';

const POLL_S = 0.2;

/**
 * Waits on the host, in one command bounded by `timeoutMs`, while the server is starting,
 * stopping or its children are still exiting; then says which settled state it is in.
 */
export async function settledPostmaster(host: Transport, database: DatabaseSettings, timeoutMs: number): Promise<PostmasterState> {
  // Each round costs a few forks on top of the sleep: leave the command time to answer.
  const rounds = Math.max(1, Math.floor((timeoutMs * 0.7) / 1000 / POLL_S));
  const script = `f=${sh`${`${database.data_dir}/postmaster.pid`}`}
state() {
  [ -f "$f" ] || { echo stopped; return; }
  pid=$(sed -n 1p "$f"); shm=$(sed -n 7p "$f" | tr -s ' ' | cut -d' ' -f2); status=$(sed -n 8p "$f" | tr -d ' ')
  run=$( [ -n "$pid" ] && sed 's/^.*) //' /proc/"$pid"/stat 2>/dev/null | cut -c1 )
  if [ -n "$run" ] && [ "$run" != Z ]; then
    case "$status" in ready|standby) echo running ;; *) echo "settling postmaster $pid is $status" ;; esac
    return
  fi
  n=$( [ -n "$shm" ] && ipcs -m -i "$shm" 2>/dev/null | sed -n 's/.*nattch=\\([0-9]*\\).*/\\1/p' )
  if [ -n "$n" ] && [ "$n" != 0 ]; then echo "settling $n processes of the dead postmaster $pid still exit"; else echo crashed; fi
}
i=0
while :; do
  s=$(state)
  case "$s" in settling*) ;; *) echo "$s"; exit 0 ;; esac
  i=$((i+1)); [ $i -ge ${rounds} ] && { echo "$s"; exit 0; }
  sleep ${POLL_S}
done`;
  const result = await host.exec(script, { timeoutMs });
  const answer = result.stdout.trim().split('\n').at(-1) ?? '';
  if (result.exitCode !== 0 || answer === '') {
    throw new StepFailedError(`cannot read the state of PostgreSQL's postmaster.pid on ${host.host}: ${result.stderr.trim() || `exit ${result.exitCode ?? result.signal}`}`);
  }
  if (answer === 'running' || answer === 'stopped' || answer === 'crashed') return answer;
  throw new StepFailedError(`PostgreSQL on ${host.host} did not settle within ${Math.round(timeoutMs / 1000)} s (${answer.replace(/^settling /, '')})`, {
    hint: `look at its log on ${host.host}; run again once it has started or stopped`,
  });
}

/** Removes a crashed server's postmaster.pid (its process is dead or a zombie, and no child holds its shared memory). */
export async function removeStalePidFile(host: Transport, database: DatabaseSettings, timeoutMs: number): Promise<void> {
  const result = await host.exec(sh`rm -f ${`${database.data_dir}/postmaster.pid`}`, { timeoutMs });
  if (result.exitCode !== 0) throw new StepFailedError(`cannot remove the stale postmaster.pid on ${host.host}: ${result.stderr.trim()}`);
}
