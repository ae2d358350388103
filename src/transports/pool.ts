import { HostUnreachableError, ConfigError } from '../errors.js';
import type { HostEntry, Inventory } from '../inventory/schema.js';
import type { Transport } from './types.js';

/** Long enough for ssh2's keepalive (3 s, 3 misses) to declare a dead host lost. */
const STILL_ANSWERS_MS = 10_000;

export type TransportFactory = (host: HostEntry, inventory: Inventory) => Promise<Transport>;
/** Opens a transport on the control machine itself (the machine mirrorctl runs on). */
export type ControlMachineFactory = () => Promise<Transport>;

/** Opens every host's transport once per run and remembers hosts that did not answer. */
export class HostPool {
  private readonly open = new Map<string, Promise<Transport>>();
  private readonly factory: TransportFactory;
  private readonly closers: Array<() => Promise<void>> = [];
  private readonly settled = new Map<string, 'reachable' | 'unreachable' | 'untrusted'>();
  /** Hosts whose connection was lost during the run. */
  private readonly lost = new Set<string>();
  private readonly controlFactory: ControlMachineFactory;
  private control: Promise<Transport> | null = null;

  constructor(
    private readonly inventory: Inventory,
    factory?: TransportFactory,
    controlFactory?: ControlMachineFactory,
  ) {
    this.factory = factory ?? defaultFactory;
    this.controlFactory = controlFactory ?? defaultControlFactory;
  }

  /** The control machine's own transport (e.g. to ask ARP from its segment), opened once per run. */
  local(): Promise<Transport> {
    this.control ??= this.controlFactory();
    return this.control;
  }

  /** The host's transport; rejects with HostUnreachableError or HostTrustError (remembered for the run). */
  get(name: string): Promise<Transport> {
    let pending = this.open.get(name);
    if (!pending) {
      const entry = this.inventory.hosts.get(name);
      if (!entry) return Promise.reject(new ConfigError(`host "${name}" is not in ${this.inventory.file}`, { hint: 'add it under hosts: or fix the name' }));
      pending = this.factory(entry, this.inventory);
      pending.then(
        (transport) => {
          this.settled.set(name, 'reachable');
          transport.onLost?.(() => this.lost.add(name));
        },
        (error: unknown) => this.settled.set(name, error instanceof HostUnreachableError ? 'unreachable' : 'untrusted'),
      );
      this.open.set(name, pending);
    }
    return pending;
  }

  /** true: answers; false: unreachable. A trust failure (host key, auth) is rethrown: it never counts as "down". */
  async reachable(name: string): Promise<boolean> {
    try {
      return (await this.get(name)).alive !== false;
    } catch (error) {
      if (error instanceof HostUnreachableError) return false;
      throw error;
    }
  }

  /**
   * Asks a host that answered earlier whether it still does: one round trip, given long
   * enough for the connection's keepalive to tell a dead host from a slow one. Used where
   * something else (a memcached, a host-to-host rsync) stopped answering and the run must
   * know whether the host itself is gone. An overloaded host that is slow to run `true`
   * counts as answering: a live host is never taken for dead.
   */
  async answers(name: string): Promise<boolean> {
    if (!(await this.reachable(name))) return false;
    const transport = await this.get(name);
    try {
      await transport.exec('true', { timeoutMs: STILL_ANSWERS_MS });
      return true;
    } catch (error) {
      if (error instanceof HostUnreachableError) return false;
      return transport.alive !== false;
    }
  }

  /** Asks every host with an open connection whether it still answers (see `answers`). */
  async confirmOpenHosts(): Promise<void> {
    await Promise.all([...this.open.keys()].map((name) => this.answers(name).catch(() => false)));
  }

  /** What this run already knows of a host without contacting it ('unknown' when it was not tried yet). */
  known(name: string): 'reachable' | 'unreachable' | 'untrusted' | 'unknown' {
    if (this.lost.has(name)) return 'unreachable';
    return this.settled.get(name) ?? 'unknown';
  }

  /** True when the host answered earlier in the run and its connection was lost since. */
  lostDuringRun(name: string): boolean {
    return this.lost.has(name);
  }

  /** Runs `close` when the run ends, before the connections close (e.g. end a database client). */
  onClose(close: () => Promise<void>): void {
    this.closers.push(close);
  }

  async closeAll(): Promise<void> {
    const closers = this.closers.splice(0);
    await Promise.all(closers.map((c) => c().catch(() => undefined)));
    const all = [...this.open.values(), ...(this.control ? [this.control] : [])];
    this.open.clear();
    this.control = null;
    await Promise.all(all.map((p) => p.then((t) => t.close()).catch(() => undefined)));
  }
}

async function defaultFactory(host: HostEntry, inventory: Inventory): Promise<Transport> {
  if (host.local) {
    const { LocalTransport } = await import('./local.js');
    return new LocalTransport(host.name);
  }
  const { connectSsh } = await import('./ssh.js');
  return connectSsh(host, inventory);
}

async function defaultControlFactory(): Promise<Transport> {
  const { LocalTransport } = await import('./local.js');
  return new LocalTransport('control machine');
}
