import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, StepFailedError } from '../errors.js';
import { ensureMemcached } from './memcached.js';
import { ensureMountNamespace, ensurePrivateNsDir, resetRun } from './mount-namespace.js';
import { setLink } from './network.js';
import { labNames, resolveLabDir, SSH_PORT, type LabHostName } from './paths.js';
import { startPostgres } from './postgres.js';
import { killNetns } from './processes.js';
import { ensureSshd } from './sshd.js';
import { readLabState, writeLabState, type LabState } from './state.js';
import { ensureWebapp } from './webapp-service.js';
import { run } from './exec.js';

// Simulated outages for tests and demos: a host cut off (link down, every process
// killed, as in a crash) and the host back (link up, services started as after a boot).

async function labState(dir: string, host: string): Promise<LabState> {
  const state = await readLabState(labNames(resolveLabDir(dir)));
  if (!state) throw new ConfigError(`No lab in ${resolveLabDir(dir)}`, { hint: 'run `mirrorctl lab up` first' });
  if (host !== 'web1' && host !== 'web2') throw new ConfigError(`Unknown lab host ${host}`, { hint: 'use web1 or web2' });
  return state;
}

/** Cuts a host off: its root-side veth down, then every process in its namespace killed (SIGKILL). */
export async function labCut(dir: string, host: LabHostName): Promise<void> {
  const state = await labState(dir, host);
  await setLink(state, host, false);
  await killNetns(state.nodes[host].netns);
}

export interface RestoreOptions {
  /** Also drop the portable IP from the host's interface, as a reboot without a persistent address would. Default false: the host comes back still holding it. */
  dropPortableIp?: boolean;
}

/**
 * Brings a cut host back: link up and a boot's worth of services. /run is emptied (stale
 * pid files and PostgreSQL socket locks go, as at a boot), then sshd, memcached, the web
 * app and PostgreSQL start; PostgreSQL comes up in the role its data directory says.
 */
export async function labRestore(dir: string, host: LabHostName, options: RestoreOptions = {}): Promise<void> {
  const names = labNames(resolveLabDir(dir));
  const state = await labState(dir, host);
  await killNetns(state.nodes[host].netns);
  if (options.dropPortableIp) {
    await run('ip', ['-n', state.nodes[host].netns, 'addr', 'del', state.portableCidr, 'dev', state.nodes[host].iface]);
  }
  await setLink(state, host, true);
  await ensurePrivateNsDir(names);
  await ensureMountNamespace(names, host);
  await resetRun(names, host);
  const started = await Promise.allSettled([
    ensureSshd(names, host),
    ensureMemcached(names, state, host),
    ensureWebapp(names, host),
    startPostgres(names, host),
  ]);
  const [sshd, memcached, webapp, postgres] = started.map((s) => (s.status === 'fulfilled' ? s.value : undefined));
  state.pids[host] = { sshd, memcached, webapp, postgres };
  await writeLabState(names, state);
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  // Back means reachable, as a booted host is before anyone calls it: its link just came up,
  // and until the control machine gets its SSH banner (ARP resolved, sshd listening) a
  // mirrorctl run would rightly find it silent on its segment (spec 8) and call it down.
  if (!(await sshBanner(state.nodes[host].address, SSH_PORT, 10_000))) {
    throw new StepFailedError(`lab: ${host} was restored but its sshd did not answer on ${state.nodes[host].address}:${SSH_PORT} within 10 s`);
  }
}

/** Whether a TCP connection to address:port gets the server's first bytes within `timeoutMs` (tried every 50 ms). */
async function sshBanner(address: string, port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const answered = await new Promise<boolean>((resolve) => {
      const sock = connect({ host: address, port });
      const done = (ok: boolean) => {
        clearTimeout(timer);
        sock.destroy();
        resolve(ok);
      };
      const timer = setTimeout(() => done(false), 500);
      sock.once('data', () => done(true));
      sock.once('error', () => done(false));
      sock.once('end', () => done(false));
    });
    if (answered) return true;
    await sleep(50);
  }
  return false;
}
