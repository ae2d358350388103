import { SHELL_ALIVE, nodeExec, run } from './exec.js';
import { fetchHealth } from './health.js';
import { memcacheGet } from './memcache-client.js';
import { mountNamespaceExists } from './mount-namespace.js';
import { holdsPortableIp, netnsExists } from './network.js';
import { LAB_HOSTS, labNames, type LabHostName, type LabNames, type LabNodeName } from './paths.js';
import { postgresRole } from './postgres.js';
import { readLabState, type LabState } from './state.js';

// `lab status`: which parts of the lab run.

export interface LabHostStatus {
  name: LabHostName;
  address: string;
  netns: string;
  link: 'up' | 'down' | 'missing';
  holds_portable_ip: boolean;
  sshd: number | null;
  postgres: 'primary' | 'replica' | 'down';
  memcached: boolean;
  webapp: { pid: number | null; health: 'ok' | 'down'; session_mode: string | null };
}

export interface LabStatus {
  dir: string;
  up: boolean;
  inventory: string | null;
  subnet: string | null;
  bridge: string | null;
  portable_ip: string | null;
  hosts: LabHostStatus[];
  client: { address: string; netns: string; link: 'up' | 'down' | 'missing' } | null;
}

async function linkState(veth: string): Promise<'up' | 'down' | 'missing'> {
  const result = await run('ip', ['-o', 'link', 'show', veth]);
  if (result.exitCode !== 0) return 'missing';
  return /[<,]UP[,>]/.test(result.stdout) ? 'up' : 'down';
}

/** The pid in `file` inside the host when that process is alive, else null. */
async function livePid(dirNames: LabNames, host: LabHostName, file: string): Promise<number | null> {
  const result = await nodeExec(dirNames, host, `${SHELL_ALIVE}\nalive ${file} && echo "$p"`);
  const pid = Number(result.stdout.trim());
  return result.exitCode === 0 && pid > 0 ? pid : null;
}

async function hostStatus(names: LabNames, state: LabState, host: LabHostName): Promise<LabHostStatus> {
  const node = state.nodes[host];
  const base: LabHostStatus = {
    name: host,
    address: node.address,
    netns: node.netns,
    link: await linkState(node.veth),
    holds_portable_ip: false,
    sshd: null,
    postgres: 'down',
    memcached: false,
    webapp: { pid: null, health: 'down', session_mode: null },
  };
  if (!(await netnsExists(node.netns)) || !(await mountNamespaceExists(names, host))) return base;
  base.holds_portable_ip = await holdsPortableIp(state, host);
  const [sshd, role, appPid, memcached, health] = await Promise.all([
    livePid(names, host, '/run/sshd.pid'),
    postgresRole(names, host),
    livePid(names, host, '/run/wiki-app.pid'),
    base.link === 'up' ? memcacheGet(`${node.address}:11211`, 'mirrorctl-lab-status').then(() => true, () => false) : Promise.resolve(false),
    base.link === 'up' ? fetchHealth(node.address) : Promise.resolve(null),
  ]);
  return { ...base, sshd, postgres: role, memcached, webapp: { pid: appPid, health: health ? 'ok' : 'down', session_mode: health?.session_mode ?? null } };
}

/** What runs of the lab in `dir` (absolute). */
export async function labStatusAt(dir: string): Promise<LabStatus> {
  const names = labNames(dir);
  const state = await readLabState(names);
  if (!state) {
    return { dir, up: false, inventory: null, subnet: null, bridge: null, portable_ip: null, hosts: [], client: null };
  }
  const hosts = await Promise.all(LAB_HOSTS.map((host) => hostStatus(names, state, host)));
  const client: LabNodeName = 'client';
  return {
    dir,
    up: (await linkState(state.bridge)) === 'up',
    inventory: names.inventoryFile,
    subnet: `${state.subnet}.0/24`,
    bridge: state.bridge,
    portable_ip: state.portableCidr,
    hosts,
    client: { address: state.nodes[client].address, netns: state.nodes[client].netns, link: await linkState(state.nodes[client].veth) },
  };
}
