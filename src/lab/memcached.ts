import { SHELL_ALIVE, nodeExecOk } from './exec.js';
import type { LabHostName, LabNames } from './paths.js';
import type { LabState } from './state.js';

// memcached on each host, on the host's address (the control machine reaches it over the bridge).

const PID_FILE = '/run/memcached/memcached.pid';

/** Starts the host's memcached unless it runs; returns its pid. */
export async function ensureMemcached(names: LabNames, state: LabState, host: LabHostName): Promise<number> {
  const address = state.nodes[host].address;
  const result = await nodeExecOk(names, host, [
    SHELL_ALIVE,
    `if ! alive ${PID_FILE}; then`,
    '  install -d -m 0755 -o memcache -g memcache /run/memcached',
    `  rm -f ${PID_FILE}`,
    `  memcached -u memcache -l ${address} -p 11211 -U 0 -m 32 -d -P ${PID_FILE}`,
    `  i=0; while [ ! -s ${PID_FILE} ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done`,
    'fi',
    `cat ${PID_FILE}`,
  ].join('\n'));
  return Number(result.stdout.trim());
}
