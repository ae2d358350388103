// Host public keys: fingerprints, key types and the algorithms to offer a server.
import { createHash } from 'node:crypto';
import { HostTrustError, UnknownHostKeyError } from '../errors.js';
import type { HostEntry } from '../inventory/schema.js';
import { keysFor, knownHostsName, revokedFor, type KnownHostEntry } from './known-hosts.js';

/** "SHA256:<base64 without padding>", exactly as `ssh-keygen -l -E sha256` prints it. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** A fingerprint written by a person, without trailing `=` padding. */
export function normalizeFingerprint(text: string): string {
  return text.trim().replace(/=+$/, '');
}

/** The key type named inside an SSH public key blob (its first string), e.g. `ssh-ed25519`. */
export function keyType(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const length = key.readUInt32BE(0);
  if (length === 0 || length > 64 || key.length < 4 + length) return 'unknown';
  return key.subarray(4, 4 + length).toString('latin1');
}

// Key types as known_hosts records them → the host key algorithms ssh2 negotiates for them.
const ALGORITHMS_FOR_TYPE: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

/** The server host key algorithms to offer for the key types recorded for a host, in the recorded order. */
export function hostKeyAlgorithms(types: string[]): string[] {
  const algorithms: string[] = [];
  for (const type of types) {
    for (const algorithm of ALGORITHMS_FOR_TYPE[type] ?? []) {
      if (!algorithms.includes(algorithm)) algorithms.push(algorithm);
    }
  }
  return algorithms;
}

/** What to offer a server and how to judge the key it shows, for one host. */
export interface HostKeyPolicy {
  /** ssh2 `algorithms.serverHostKey`; undefined: ssh2's defaults (pinned key or unknown host). */
  serverHostKey: string[] | undefined;
  /** null: trusted; else the refusal to report. */
  judge(key: Buffer): HostTrustError | null;
  /** The refusal when the server has none of the recorded key types. */
  noCommonKeyType(): HostTrustError;
}

/** "web1 (10.0.0.1:22)", or "web1 (10.0.0.1:22 via bastion)": how messages name a host. */
export function hostLabel(host: HostEntry): string {
  const via = host.ssh.jumpHosts.length > 0 ? ` via ${host.ssh.jumpHosts.map((hop) => hop.name).join(', ')}` : '';
  return `${host.name} (${host.address}:${host.ssh.port}${via})`;
}

/** The policy for a host: its pinned `host_key` when set, else the known_hosts entries (null: file missing). */
export function hostKeyPolicy(host: HostEntry, inventoryFile: string, entries: KnownHostEntry[] | null): HostKeyPolicy {
  const label = hostLabel(host);
  const address = host.address ?? '';
  const port = host.ssh.port;
  const file = host.ssh.knownHosts;
  const intercepted = `check whether ${host.name} was reinstalled or the connection is being intercepted`;
  const offered = (key: Buffer) => `${keyType(key)} ${fingerprint(key)}`;

  if (host.hostKey) {
    const pinned = normalizeFingerprint(host.hostKey);
    return {
      serverHostKey: undefined,
      judge: (key) =>
        normalizeFingerprint(fingerprint(key)) === pinned
          ? null
          : new HostTrustError(host.name, `${label}: host key ${offered(key)} does not match the pinned host_key ${pinned}`, {
              hint: `${intercepted}; if the new key is genuine (or the pin is of another key type than ${keyType(key)}), set hosts.${host.name}.host_key in ${inventoryFile}`,
            }),
      noCommonKeyType: () => new HostTrustError(host.name, `${label}: no host key type in common with the server`),
    };
  }

  const recorded = keysFor(entries ?? [], address, port);
  const revoked = revokedFor(entries ?? [], address, port);
  const types = [...new Set(recorded.map((r) => r.type))];
  const algorithms = hostKeyAlgorithms(types);
  const where = entries === null ? `${file} (the file does not exist)` : file;
  const replace = `replace its line: ssh-keygen -R '${knownHostsName(address, port)}' -f ${file}, then ssh-keyscan -p ${port} ${address} >> ${file}`;
  return {
    serverHostKey: algorithms.length > 0 ? algorithms : undefined,
    judge(key) {
      if (revoked.some((r) => r.equals(key))) {
        return new HostTrustError(host.name, `${label}: host key ${offered(key)} is marked @revoked in ${file}`, {
          hint: `do not connect; ask ${host.name}'s administrator for its new host key`,
        });
      }
      if (recorded.some((r) => r.key.equals(key))) return null;
      if (recorded.length === 0) {
        return new UnknownHostKeyError(host.name, `${label}: host key is not known (${offered(key)}) in ${where}`, {
          hint: `verify the fingerprint, then add it: ssh-keyscan -p ${port} ${address} >> ${file}`,
          key,
          keyType: keyType(key),
          fingerprint: fingerprint(key),
          knownHostsName: knownHostsName(address, port),
          knownHostsFile: file,
        });
      }
      return new HostTrustError(
        host.name,
        `${label}: host key has changed: it offered ${offered(key)}, not the ${types.join('/')} key recorded in ${file}`,
        { hint: `${intercepted}; only if the new key is genuine, ${replace}` },
      );
    },
    noCommonKeyType: () =>
      new HostTrustError(host.name, `${label}: offers none of the host key types recorded for it in ${file} (${types.join(', ')})`, {
        hint: `${intercepted}; only if its new key is genuine, ${replace}`,
      }),
  };
}
