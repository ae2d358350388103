import { readFile, rename, writeFile } from 'node:fs/promises';
import type { LabHostName, LabNames, LabNodeName } from './paths.js';

// DIR/lab.json: everything `lab up` created, so `lab down` and `lab status` need no guessing.

export interface LabNodeState {
  netns: string;
  veth: string;
  /** The node's own end of its veth pair: its interface on the lab network. */
  iface: string;
  address: string;
}

export interface LabState {
  version: 2;
  dir: string;
  hash: string;
  /** First three octets of the lab's /24, e.g. "10.213.57". */
  subnet: string;
  bridge: string;
  bridgeAddress: string;
  portableIp: string;
  portableCidr: string;
  nodes: Record<LabNodeName, LabNodeState>;
  mountNs: Record<LabHostName, string>;
  /** Pids of the daemons last started, per host (informational; `lab down` kills by namespace too). */
  pids: Record<LabHostName, Partial<Record<'sshd' | 'postgres' | 'memcached' | 'webapp', number>>>;
  /** True when this lab created the empty /etc/wiki mount point on the control machine. */
  createdEtcWiki: boolean;
  createdAt: string;
}

/** The lab's recorded state, or null when DIR/lab.json does not exist. */
export async function readLabState(names: LabNames): Promise<LabState | null> {
  try {
    return JSON.parse(await readFile(names.stateFile, 'utf8')) as LabState;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Writes DIR/lab.json atomically. */
export async function writeLabState(names: LabNames, state: LabState): Promise<void> {
  const temporary = `${names.stateFile}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`);
  await rename(temporary, names.stateFile);
}

export function nodeAddress(subnet: string, octet: number): string {
  return `${subnet}.${octet}`;
}
