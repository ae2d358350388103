// One authenticated ssh2 client to a host or a jump host: host key checked against the
// pin or known_hosts, key file or agent authentication, never a password.
import { readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Client, ConnectConfig } from 'ssh2';
import { HostTrustError, HostUnreachableError } from '../errors.js';
import type { HostEntry, Inventory } from '../inventory/schema.js';
import { hostKeyPolicy, hostLabel, type HostKeyPolicy } from './host-key.js';
import { parseKnownHosts, type KnownHostEntry } from './known-hosts.js';
import { arpSilence } from './arp-liveness.js';
import { arpShortcutAllowed } from '../inventory/hosts.js';
import { KEEPALIVE_INTERVAL_MS } from './ssh-transport.js';

/** A live host on the same segment answers the TCP connect well within this; only then is ARP asked. */
const ARP_AFTER_MS = 20;

const UNREACHABLE_HINT = 'check the host is up and reachable from this machine (when it is the target, --to picks another)';

/** The SSH handshake after the TCP connect: at least 10 s, however short the connect timeout. */
function handshakeTimeoutMs(host: HostEntry): number {
  return Math.max(10_000, host.ssh.connectTimeoutMs * 2);
}

/**
 * An authenticated ssh2 connection to a host or a jump host: over `sock` when given
 * (a channel forwarded by the previous hop), else over a new TCP connection.
 */
export async function openSshClient(host: HostEntry, inventory: Inventory, sock?: Duplex): Promise<Client> {
  const policy = hostKeyPolicy(host, inventory.file, host.hostKey ? [] : await knownHosts(inventory, host.ssh.knownHosts));
  const auth = await authentication(host);
  const [{ default: ssh2 }, stream] = await Promise.all([import('ssh2'), sock ?? tcpConnect(host)]);
  const client = new ssh2.Client();
  await handshake(client, host, policy, auth, stream);
  return client;
}

/**
 * The TCP connection and the server's first bytes (its SSH banner), bounded by
 * connect_timeout_ms, as OpenSSH's ConnectTimeout. Only this part decides
 * "unreachable": key exchange and authentication, which a loaded machine can
 * make slow, get a longer timeout of their own, so a short connect timeout never
 * mistakes a live primary for a dead one. The banner is left unread for ssh2.
 */
function tcpConnect(host: HostEntry): Promise<Socket> {
  const label = hostLabel(host);
  const timeoutMs = host.ssh.connectTimeoutMs;
  return new Promise((resolve, reject) => {
    const sock = connect({ host: host.address ?? '', port: host.ssh.port });
    const arp = new AbortController();
    let settled = false;
    const settle = (error: HostUnreachableError | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(arpTimer);
      arp.abort();
      if (error === null) return resolve(sock);
      sock.destroy();
      reject(error);
    };
    const timer = setTimeout(() => settle(new HostUnreachableError(host.name, `${label} did not answer within ${timeoutMs} ms`, { hint: UNREACHABLE_HINT })), timeoutMs);
    // Spec 8: a host on the control machine's own segment that answers no ARP request is
    // dead; asked only when the TCP connection is not up within a few ms (a host that
    // answered the SYN is alive, however slow its sshd is to send the banner), so a healthy
    // connect costs nothing. Never through a jump host (no `tcpConnect` then) or for an alias.
    const arpTimer = setTimeout(() => {
      if (!arpShortcutAllowed(host) || !host.address) return;
      void arpSilence(host.address, arp.signal).then((silence) => {
        if (!silence || arp.signal.aborted) return;
        settle(new HostUnreachableError(host.name, `${label} does not answer: none of ${silence.requests} ARP requests over ${silence.overMs} ms on ${silence.device} (its own segment) was answered; it is down or cut off`, { hint: UNREACHABLE_HINT }));
      });
    }, Math.min(ARP_AFTER_MS, timeoutMs));
    sock.once('connect', () => {
      sock.setNoDelay(true);
      clearTimeout(arpTimer);
      arp.abort();
    });
    sock.once('readable', () => settle(null));
    sock.once('end', () => settle(new HostUnreachableError(host.name, `${label} closed the connection before the SSH banner`, { hint: UNREACHABLE_HINT })));
    sock.once('error', (error: NodeJS.ErrnoException) =>
      settle(new HostUnreachableError(host.name, `${label} ${socketProblem(error)}`, { hint: UNREACHABLE_HINT, cause: error })),
    );
  });
}

function socketProblem(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'refused the connection';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `is not reachable: no route to host (${error.code})`;
    case 'ETIMEDOUT':
      return 'did not answer (the connection timed out)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot be resolved (${error.code})`;
    default:
      return `could not be connected to (${error.message})`;
  }
}

// known_hosts files read once per run (the inventory lives exactly as long as a run).
const knownHostsCache = new WeakMap<Inventory, Map<string, Promise<KnownHostEntry[] | null>>>();

function knownHosts(inventory: Inventory, file: string): Promise<KnownHostEntry[] | null> {
  let files = knownHostsCache.get(inventory);
  if (!files) knownHostsCache.set(inventory, (files = new Map()));
  let entries = files.get(file);
  if (!entries) {
    entries = readFile(file, 'utf8').then(parseKnownHosts, (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
    files.set(file, entries);
  }
  return entries;
}

type Authentication = Pick<ConnectConfig, 'privateKey' | 'passphrase' | 'agent'> & { method: string };

/**
 * The key file (passphrase only from `passphrase_env`) or else the agent at $SSH_AUTH_SOCK.
 * A key named only by the OpenSSH config is offered with the agent, as ssh(1) does, and
 * skipped for the agent when it cannot be used without a passphrase.
 */
async function authentication(host: HostEntry): Promise<Authentication> {
  const label = hostLabel(host);
  const { identityFile, passphraseEnv, identityFromConfig } = host.ssh;
  const agent = process.env.SSH_AUTH_SOCK || undefined;
  if (!identityFile) {
    if (agent) return { agent, method: `the SSH agent at ${agent}` };
    throw new HostTrustError(host.name, `${label}: no identity_file is set and no SSH agent is running ($SSH_AUTH_SOCK is empty)`, {
      hint: 'set ssh.identity_file in the inventory, or start ssh-agent and ssh-add the key',
    });
  }
  let privateKey: Buffer;
  try {
    privateKey = await readFile(identityFile);
  } catch (error) {
    throw new HostTrustError(host.name, `${label}: cannot read identity file ${identityFile} (${(error as NodeJS.ErrnoException).code ?? error})`, {
      hint: 'fix ssh.identity_file in the inventory',
      cause: error,
    });
  }
  const passphrase = passphraseEnv ? process.env[passphraseEnv] : undefined;
  const { default: ssh2 } = await import('ssh2');
  const parsed = ssh2.utils.parseKey(privateKey, passphrase);
  if (parsed instanceof Error && identityFromConfig && agent) return { agent, method: `the SSH agent at ${agent}` };
  if (parsed instanceof Error) {
    // The parser's messages never contain the passphrase; ours name only the variable.
    const encrypted = /passphrase|encrypt/i.test(parsed.message) && passphrase === undefined;
    const message = encrypted
      ? `identity file ${identityFile} is encrypted and ${passphraseEnv ? `$${passphraseEnv} is not set` : 'no passphrase_env is configured'}`
      : passphrase !== undefined
        ? `cannot decrypt identity file ${identityFile} with the passphrase in $${passphraseEnv} (${parsed.message})`
        : `cannot use identity file ${identityFile} (${parsed.message})`;
    throw new HostTrustError(host.name, `${label}: ${message}`, {
      hint: encrypted ? 'export the passphrase in the variable named by ssh.passphrase_env; mirrorctl never prompts' : 'check ssh.identity_file and ssh.passphrase_env in the inventory',
    });
  }
  if (identityFromConfig && agent) return { privateKey, passphrase, agent, method: `key ${identityFile} and the SSH agent at ${agent}` };
  return { privateKey, passphrase, method: `key ${identityFile}` };
}

/** Runs the SSH handshake and authentication, mapping every failure to a typed error. */
function handshake(client: Client, host: HostEntry, policy: HostKeyPolicy, auth: Authentication, sock: Duplex): Promise<void> {
  const label = hostLabel(host);
  const timeoutMs = handshakeTimeoutMs(host);
  return new Promise((resolve, reject) => {
    let settled = false;
    let refusal: HostTrustError | null = null;
    let keyAccepted = false;

    const fail = (error: HostTrustError | HostUnreachableError) => {
      if (settled) return;
      settled = true;
      client.destroy();
      reject(error);
    };
    const unreachable = (what: string, cause?: unknown) =>
      new HostUnreachableError(host.name, `${label} ${what}`, { hint: UNREACHABLE_HINT, cause });
    const authRefused = (cause?: unknown) =>
      new HostTrustError(host.name, `${label}: authentication refused for ${host.ssh.user}@${host.address} (tried ${auth.method})`, {
        hint: `check that the key is in ${host.ssh.user}'s authorized_keys on ${host.name}, and ssh.user / ssh.identity_file in the inventory`,
        cause,
      });

    const classify = (error: Error & { level?: string; code?: string | number }) => {
      if (refusal) return refusal;
      const code = typeof error.code === 'string' ? error.code : undefined;
      switch (error.level) {
        case 'client-timeout':
          return unreachable(`did not answer within ${timeoutMs} ms`, error);
        case 'client-authentication':
          return authRefused(error);
        case 'agent':
          return new HostTrustError(host.name, `${label}: the SSH agent could not be used (${error.message})`, {
            hint: 'check that ssh-agent is running and $SSH_AUTH_SOCK points to it, or set ssh.identity_file',
            cause: error,
          });
        case 'client-dns':
          return unreachable(`cannot be resolved (${error.message})`, error);
        case 'handshake':
        case 'protocol':
          if (/host key format/i.test(error.message)) return policy.noCommonKeyType();
          return new HostTrustError(host.name, `${label}: the SSH handshake failed (${error.message})`, {
            hint: `check that an OpenSSH server listens on port ${host.ssh.port}`,
            cause: error,
          });
      }
      if (code === 'ECONNREFUSED') return unreachable('refused the connection', error);
      if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return unreachable(`is not reachable: no route to host (${code})`, error);
      if (code === 'ETIMEDOUT') return unreachable('did not answer (the connection timed out)', error);
      if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return unreachable(`cannot be resolved (${code})`, error);
      // A disconnect after the host key was accepted comes from authentication (e.g. too many failures).
      if (keyAccepted) return authRefused(error);
      return unreachable(`closed the connection (${error.message})`, error);
    };

    client.on('error', (error) => fail(classify(error)));
    client.once('close', () => fail(refusal ?? (keyAccepted ? authRefused() : unreachable('closed the connection during the SSH handshake'))));
    client.once('ready', () => {
      settled = true;
      resolve();
    });

    const config: ConnectConfig = {
      sock,
      host: host.address ?? '',
      port: host.ssh.port,
      username: host.ssh.user,
      readyTimeout: timeoutMs,
      // A host that answers no keepalive for ~3 intervals is taken as lost (a live sshd
      // answers them even while its commands run), so a host dying mid-run is seen in seconds.
      keepaliveInterval: KEEPALIVE_INTERVAL_MS,
      keepaliveCountMax: 3,
      tryKeyboard: false,
      privateKey: auth.privateKey,
      passphrase: auth.passphrase,
      agent: auth.agent,
      hostVerifier: (key: Buffer) => {
        refusal = policy.judge(key);
        keyAccepted = refusal === null;
        return keyAccepted;
      },
    };
    if (policy.serverHostKey) config.algorithms = { serverHostKey: policy.serverHostKey as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] };
    try {
      client.connect(config);
    } catch (error) {
      fail(new HostTrustError(host.name, `${label}: cannot start the SSH connection (${(error as Error).message})`, { cause: error }));
    }
  });
}
