import { readdir, rm } from 'node:fs/promises';
import { ConfigError, StepFailedError } from '../errors.js';
import { withLabLock } from './lock.js';
import { removeLoginUser } from './login-user.js';
import { mountsUnder } from './mounts.js';
import { removeEtcWikiMountPoint, removeMountNamespaces } from './mount-namespace.js';
import { netnsExists, removeNetwork } from './network.js';
import { LAB_NODES, labNames, type LabNames } from './paths.js';
import { killNetns } from './processes.js';
import { readLabState } from './state.js';
import type { Progress } from './up.js';

// `lab down`: every process in the lab's namespaces, the namespaces, the veth ends,
// the bridge, every mount and the directory. Harmless when nothing is up.

/** True when `dir` looks like a lab directory (or is empty), so removing it is safe. */
async function isLabDirectory(names: LabNames): Promise<boolean> {
  const entries = await readdir(names.dir).catch(() => null);
  if (entries === null) return true;
  return entries.length === 0 || entries.includes('lab.json') || (entries.includes('hosts') && entries.includes('ns'));
}

/** Takes down the lab in `dir` (absolute); returns what it found running. */
export async function labDownAt(dir: string, progress: Progress): Promise<{ wasUp: boolean }> {
  const names = labNames(dir);
  if (!(await isLabDirectory(names))) {
    throw new ConfigError(`${dir} is not a mirrorctl lab directory (no lab.json)`, { hint: 'check --dir' });
  }
  return withLabLock(dir, async () => {
    const state = await readLabState(names);
    const namespaces = await Promise.all(LAB_NODES.map((node) => netnsExists(names.netns[node])));
    const wasUp = state !== null || namespaces.includes(true);
    const killed = (await Promise.all(LAB_NODES.map((node) => killNetns(names.netns[node])))).flat();
    if (killed.length > 0) progress(`stopped ${killed.length} processes in the lab's namespaces`);
    await removeNetwork(names);
    await removeLoginUser(names);
    await removeMountNamespaces(names);
    const left = await mountsUnder(dir);
    if (left.length > 0) {
      throw new StepFailedError(`Cannot unmount ${left.join(', ')}`, { hint: `unmount it by hand (umount -l), then run lab down again` });
    }
    await rm(dir, { recursive: true, force: true });
    await removeEtcWikiMountPoint(names);
    if (wasUp) progress(`removed the lab in ${dir}`);
    return { wasUp };
  });
}
