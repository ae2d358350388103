// The shared test lab: `ensureLab()` brings it up once (idempotent, quick when it runs)
// in MIRRORCTL_TEST_LAB (default /tmp/mirrorctl-test-lab) and describes it.
import { labNames, hostPath as labHostPath, PASSWORD_ENV, PG_PORT, SSH_PORT, type LabHostName, type LabNodeName } from '../../src/lab/paths.js';
import { nodeExec, run, type LabCommandResult } from '../../src/lab/exec.js';
import { readLabState, type LabState } from '../../src/lab/state.js';
import { SSHD_LOG } from '../../src/lab/sshd.js';
import { readFile, writeFile } from 'node:fs/promises';

export const TEST_LAB_DIR = process.env.MIRRORCTL_TEST_LAB ?? '/tmp/mirrorctl-test-lab';

export type { LabHostName, LabNodeName, LabCommandResult };

export interface TestLab {
  dir: string;
  /** DIR/mirrorctl.yaml, the site's inventory. */
  inventory: string;
  identityFile: string;
  knownHostsFile: string;
  /** e.g. "10.213.57" (the lab's /24 is `${subnet}.0/24`). */
  subnet: string;
  /** Address of each node, and of the bridge (the control machine on the lab network). */
  addresses: Record<LabNodeName | 'bridge', string>;
  /** The portable IP without and with its prefix: "10.213.57.100", "10.213.57.100/24". */
  portableIp: string;
  portableCidr: string;
  /** Network namespace names (`ip netns`), and root-side veth ends per node; inside, the interface is `iface[node]`. */
  netns: Record<LabNodeName, string>;
  /** Each node's own interface name on the lab network (they differ, as on real hosts). */
  iface: Record<LabNodeName, string>;
  /** The unprivileged login user of the hosts (NOPASSWD sudo; root logins are refused). */
  user: string;
  sshPort: number;
  pgPort: number;
  /** The database password (also exported as WIKI_DB_PASSWORD to this process, so every CLI run gets it). */
  password: string;
  veth: Record<LabNodeName, string>;
  bridge: string;
  /** Bind-mounted mount-namespace files (nsenter --mount=...). */
  mountNs: Record<LabHostName, string>;
  state: LabState;
  /** Runs `sh -c command` inside a node (nsenter into its network and mount namespaces), as root. */
  hostExec(node: LabNodeName, command: string, options?: { input?: string; timeoutMs?: number }): Promise<LabCommandResult>;
  /** OpenSSH client arguments for a host: `ssh ...sshArgs(host) 'command'`. */
  sshArgs(host: LabHostName): string[];
  /** Runs a command on a host with the real OpenSSH client (strict host key checking). */
  ssh(host: LabHostName, command: string): Promise<LabCommandResult>;
  /** Where a file under /root, /etc/wiki, /srv or /var/lib/postgresql of a host lives on the control machine. */
  hostPath(host: LabHostName, path: string): string;
  /** "Primary host cut off": root-side veth down, every process in the host killed. */
  cut(host: LabHostName): Promise<void>;
  /** "Old host back": veth up, /run cleared as at a boot, sshd, memcached, web app, PostgreSQL (in its data dir's role). */
  restore(host: LabHostName, options?: { dropPortableIp?: boolean }): Promise<void>;
  /** sshd's log (LogLevel VERBOSE) of a host, on the control machine: one "Accepted publickey" line per connection. */
  sshdLog: Record<LabHostName, string>;
  /** Counts "Accepted publickey" lines in a host's sshd log (connections since the host's sshd first started). */
  sshConnections(host: LabHostName): Promise<number>;
  /** What differs from the freshly built lab (web1 primary with the IP, web2 streaming replica, sessions database). */
  deviations(): Promise<string[]>;
}

/** Describes the lab in `dir` (which must be up). */
export async function describeLab(dir: string): Promise<TestLab> {
  const names = labNames(dir);
  const state = await readLabState(names);
  if (!state) throw new Error(`No lab in ${dir}`);
  const sshArgs = (host: LabHostName) => [
    '-i', names.identityFile,
    '-o', `UserKnownHostsFile=${names.knownHostsFile}`,
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes',
    '-o', 'ConnectTimeout=5',
    '-p', String(SSH_PORT),
    `${names.user}@${state.nodes[host].address}`,
  ];
  const password = (await readFile(names.passwordFile, 'utf8')).trim();
  process.env[PASSWORD_ENV] = password;
  return {
    dir,
    inventory: names.inventoryFile,
    identityFile: names.identityFile,
    knownHostsFile: names.knownHostsFile,
    subnet: state.subnet,
    addresses: {
      web1: state.nodes.web1.address,
      web2: state.nodes.web2.address,
      client: state.nodes.client.address,
      bridge: state.bridgeAddress,
    },
    portableIp: state.portableIp,
    portableCidr: state.portableCidr,
    netns: { web1: state.nodes.web1.netns, web2: state.nodes.web2.netns, client: state.nodes.client.netns },
    iface: { web1: state.nodes.web1.iface, web2: state.nodes.web2.iface, client: state.nodes.client.iface },
    user: names.user,
    sshPort: SSH_PORT,
    pgPort: PG_PORT,
    password,
    veth: { web1: state.nodes.web1.veth, web2: state.nodes.web2.veth, client: state.nodes.client.veth },
    bridge: state.bridge,
    mountNs: { ...names.mountNs },
    state,
    hostExec: (node, command, options) => nodeExec(names, node, command, options),
    sshArgs,
    ssh: (host, command) => run('ssh', [...sshArgs(host), command], { timeoutMs: 60_000 }),
    hostPath: (host, path) => labHostPath(names, host, path),
    sshdLog: { web1: labHostPath(names, 'web1', SSHD_LOG), web2: labHostPath(names, 'web2', SSHD_LOG) },
    sshConnections: async (host) => {
      const log = await readFile(labHostPath(names, host, SSHD_LOG), 'utf8').catch(() => '');
      return log.split('\n').filter((line) => line.includes('Accepted publickey')).length;
    },
    deviations: async () => (await import('../../src/lab/baseline.js')).labDeviations(dir),
    cut: async (host) => (await import('../../src/lab/cut.js')).labCut(dir, host),
    restore: async (host, options) => (await import('../../src/lab/cut.js')).labRestore(dir, host, options),
  };
}

/**
 * Brings the test lab up (or checks it and restarts what stopped) and describes it.
 * Unless `anyState`, a lab that an earlier test left elsewhere than its first state
 * (roles swapped, IP moved, host cut, sessions read-only) is rebuilt from nothing.
 */
export async function ensureLab(options: { anyState?: boolean } = {}): Promise<TestLab> {
  const { labUpAt } = await import('../../src/lab/up.js');
  await labUpAt(TEST_LAB_DIR, () => undefined);
  if (!options.anyState) {
    const { labDeviations } = await import('../../src/lab/baseline.js');
    if ((await labDeviations(TEST_LAB_DIR)).length > 0) {
      const { labDownAt } = await import('../../src/lab/down.js');
      await labDownAt(TEST_LAB_DIR, () => undefined);
      await labUpAt(TEST_LAB_DIR, () => undefined);
    }
  }
  // Marks the lab as used by this vitest run, so only this run's teardown takes it down.
  const run = process.env.MIRRORCTL_TEST_RUN;
  if (run) await writeFile(`${TEST_LAB_DIR}/.used-by-test-run-${run}`, '');
  return describeLab(TEST_LAB_DIR);
}
