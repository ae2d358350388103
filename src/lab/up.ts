import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MirrorError, StepFailedError } from '../errors.js';
import { waitHealth } from './health.js';
import { writeLabInventory } from './inventory.js';
import { withLabLock } from './lock.js';
import { ensureMemcached } from './memcached.js';
import { ensureEtcWikiMountPoint, ensureMountNamespace, ensurePrivateNsDir, resetRun } from './mount-namespace.js';
import { addPortableIp, ensureNetwork, portableIpHolder } from './network.js';
import {
  BRIDGE_OCTET,
  LAB_HOSTS,
  LAB_NODES,
  NODE_IFACE,
  NODE_OCTET,
  PORTABLE_OCTET,
  labNames,
  type LabHostName,
  type LabNames,
} from './paths.js';
import { ensureLoginUser } from './login-user.js';
import { appPassword, ensurePrimary, ensureReplica, labPassword, waitStreaming } from './postgres.js';
import { checkPrerequisites } from './prerequisites.js';
import { writeRootProfile } from './host-files.js';
import { prepareSsh, ensureSshd } from './sshd.js';
import { nodeAddress, readLabState, writeLabState, type LabState } from './state.js';
import { chooseSubnet } from './subnet.js';
import { ensureUploads } from './uploads.js';
import { ensureSessionsFile, ensureWebapp, webappEntry } from './webapp-service.js';
import { messageOf } from '../error-sentence.js';

// `lab up`: builds whatever of the lab is missing, in parallel where it can; a lab
// that is already running is only checked (and what stopped is started again).

export type Progress = (line: string) => void;

async function newState(names: LabNames): Promise<LabState> {
  const subnet = await chooseSubnet(names.hash);
  const nodes = {} as LabState['nodes'];
  for (const node of LAB_NODES) {
    nodes[node] = { netns: names.netns[node], veth: names.veth[node], iface: NODE_IFACE[node], address: nodeAddress(subnet, NODE_OCTET[node]) };
  }
  const portableIp = nodeAddress(subnet, PORTABLE_OCTET);
  return {
    version: 2,
    dir: names.dir,
    hash: names.hash,
    subnet,
    bridge: names.bridge,
    bridgeAddress: nodeAddress(subnet, BRIDGE_OCTET),
    portableIp,
    portableCidr: `${portableIp}/24`,
    nodes,
    mountNs: { ...names.mountNs },
    pids: { web1: {}, web2: {} },
    createdEtcWiki: false,
    createdAt: new Date().toISOString(),
  };
}

/** A host's disks and /run: its mount namespace, a fresh /run when the namespace is new, root's profile. */
async function prepareHost(names: LabNames, host: LabHostName): Promise<void> {
  if (await ensureMountNamespace(names, host)) await resetRun(names, host);
  await writeRootProfile(names, host);
}

/** sshd, memcached and the web app of one host. */
async function startHostServices(names: LabNames, state: LabState, host: LabHostName): Promise<void> {
  const [sshd, memcached] = await Promise.all([ensureSshd(names, host), ensureMemcached(names, state, host)]);
  await ensureSessionsFile(names, state, host);
  const webapp = await ensureWebapp(names, host);
  Object.assign(state.pids[host], { sshd, memcached, webapp });
}

/** Builds or completes the lab in `dir` (absolute); returns its state. */
export async function labUpAt(dir: string, progress: Progress): Promise<LabState> {
  await checkPrerequisites();
  await webappEntry();
  await mkdir(dirname(dir), { recursive: true });
  return withLabLock(dir, async () => {
    const names = labNames(dir);
    await mkdir(dir, { recursive: true, mode: 0o755 });
    const existing = await readLabState(names);
    const state = existing ?? (await newState(names));
    await writeLabState(names, state);
    try {
      if (await ensureEtcWikiMountPoint()) state.createdEtcWiki = true;
      progress(`network: bridge ${state.bridge} ${state.bridgeAddress}/24, namespaces ${LAB_NODES.map((n) => state.nodes[n].netns).join(', ')}`);
      const network = await ensureNetwork(state);
      // The portable IP is web1's when the lab is new, or when the whole network had to be
      // rebuilt (the machine rebooted); otherwise it is wherever mirrorctl left it.
      if (!existing || (network.created && !(await portableIpHolder(state)))) await addPortableIp(state, 'web1');
      await ensurePrivateNsDir(names);
      await Promise.all(LAB_HOSTS.map((host) => prepareHost(names, host)));
      await ensureLoginUser(names);
      await prepareSsh(names, state);
      await ensureUploads(names);
      await Promise.all([labPassword(names), appPassword(names)]);
      progress(
        existing
          ? 'hosts: checking sshd, memcached, the web app and PostgreSQL on web1 and web2; starting what stopped'
          : 'hosts: sshd, memcached and the web app on web1 and web2; PostgreSQL primary on web1 (initdb), replica on web2 (pg_basebackup -c fast)',
      );
      const database = (async () => {
        state.pids.web1.postgres = await ensurePrimary(names, state, 'web1');
        state.pids.web2.postgres = await ensureReplica(names, state, 'web2', 'web1');
      })();
      await Promise.all([...LAB_HOSTS.map((host) => startHostServices(names, state, host)), database]);
      if (!existing && !(await waitStreaming(names, state, 'web1', 'web2'))) {
        throw new StepFailedError('The replica on web2 is not streaming from web1', {
          hint: `see ${names.hostRoot.web2}/var_lib_postgresql/15/log`,
        });
      }
      await Promise.all(LAB_HOSTS.map(async (host) => {
        const health = await waitHealth(state.nodes[host].address, (h) => h.db_role !== 'down');
        if (!health) throw new StepFailedError(`The web app on ${host} does not answer /health`, { hint: `see ${names.hostRoot[host]}/srv/lab/log/webapp.log` });
      }));
      await writeLabInventory(names, state);
      await writeLabState(names, state);
      return state;
    } catch (error) {
      await writeLabState(names, state).catch(() => undefined);
      if (error instanceof MirrorError) throw error;
      throw new StepFailedError(`lab up failed: ${messageOf(error)}`, {
        hint: `run \`mirrorctl lab down --dir ${dir}\` and try again`,
        cause: error,
      });
    }
  });
}
