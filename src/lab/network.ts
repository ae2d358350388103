import { hasAddress } from '../site/portable-ip.js';
import { run, runOk } from './exec.js';
import { LAB_NODES, type LabNames, type LabNodeName } from './paths.js';
import type { LabState } from './state.js';

// The lab's network: a bridge in the root namespace (the control machine is on it)
// and one network namespace per node, joined by a veth pair whose inner end has the
// node's own interface name (the hosts name theirs differently, as real ones do).

async function linkExists(name: string, netns?: string): Promise<boolean> {
  const args = netns ? ['-n', netns, 'link', 'show', name] : ['link', 'show', name];
  return (await run('ip', args)).exitCode === 0;
}

export async function netnsExists(netns: string): Promise<boolean> {
  const list = await run('ip', ['netns', 'list']);
  return list.stdout.split('\n').some((line) => line.split(/\s+/)[0] === netns);
}

/** Creates whatever is missing of the bridge, namespaces and veth pairs; returns true when the node set was new. */
export async function ensureNetwork(state: LabState): Promise<{ created: boolean }> {
  let created = false;
  if (!(await linkExists(state.bridge))) {
    await runOk('ip', ['link', 'add', state.bridge, 'type', 'bridge']);
    await runOk('ip', ['addr', 'add', `${state.bridgeAddress}/24`, 'dev', state.bridge]);
    created = true;
  }
  await runOk('ip', ['link', 'set', state.bridge, 'up']);
  // One node after another: `ip netns add` racing itself on /run/netns is not safe.
  for (const node of LAB_NODES) {
    if (await ensureNode(state, node)) created = true;
  }
  return { created };
}

/** One node: namespace, veth pair, address, links up. True when its namespace was created now. */
async function ensureNode(state: LabState, node: LabNodeName): Promise<boolean> {
  const { netns, veth, iface, address } = state.nodes[node];
  let fresh = false;
  if (!(await netnsExists(netns))) {
    await runOk('ip', ['netns', 'add', netns]);
    fresh = true;
  }
  if (!(await linkExists(veth))) {
    // A leftover inner end without its root end cannot exist (deleting one end deletes the pair).
    await runOk('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', iface, 'netns', netns]);
  }
  await runOk('ip', ['link', 'set', veth, 'master', state.bridge]);
  await runOk('ip', ['link', 'set', veth, 'up']);
  await runOk('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
  const addresses = await runOk('ip', ['-n', netns, '-4', '-o', 'addr', 'show', 'dev', iface]);
  if (!addresses.stdout.includes(` ${address}/24 `)) {
    await runOk('ip', ['-n', netns, 'addr', 'add', `${address}/24`, 'dev', iface]);
  }
  await runOk('ip', ['-n', netns, 'link', 'set', iface, 'up']);
  return fresh;
}

/** Puts the portable IP on a host's interface (only when the lab is first built: later it belongs to mirrorctl). */
export async function addPortableIp(state: LabState, node: LabNodeName): Promise<void> {
  if (await holdsPortableIp(state, node)) return;
  const { netns, iface } = state.nodes[node];
  await runOk('ip', ['-n', netns, 'addr', 'add', state.portableCidr, 'dev', iface]);
}

/** True when the portable IP is on any interface of the node, whatever its prefix length. */
export async function holdsPortableIp(state: LabState, node: LabNodeName): Promise<boolean> {
  const addresses = await run('ip', ['-n', state.nodes[node].netns, '-4', '-o', 'addr', 'show']);
  return hasAddress(addresses.stdout, state.portableIp);
}

/** The host that has the portable IP (the first one found), or null. */
export async function portableIpHolder(state: LabState): Promise<LabNodeName | null> {
  for (const node of LAB_NODES) {
    if (await holdsPortableIp(state, node)) return node;
  }
  return null;
}

/** Deletes the veth root ends, the bridge and the namespaces, whatever of them exists. */
export async function removeNetwork(names: LabNames): Promise<void> {
  // The root ends go explicitly: a namespace kept alive by orphaned sockets would keep its pair.
  for (const node of LAB_NODES) await run('ip', ['link', 'del', names.veth[node]]);
  await run('ip', ['link', 'del', names.bridge]);
  for (const node of LAB_NODES) await run('ip', ['netns', 'del', names.netns[node]]);
}

/** Sets a node's root-side veth end down (cut) or up (restore). */
export async function setLink(state: LabState, node: LabNodeName, up: boolean): Promise<void> {
  await runOk('ip', ['link', 'set', state.nodes[node].veth, up ? 'up' : 'down']);
}
