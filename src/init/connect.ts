// Connects to a host the way every run will (connectSsh: known_hosts, key file or
// agent), and handles a host key that known_hosts does not record: shown with its
// fingerprint, trusted only when the operator confirms it or --accept-host-key names it.
import { HostTrustError, UnknownHostKeyError } from '../errors.js';
import type { HostEntry, Inventory } from '../inventory/schema.js';
import { hostLabel, normalizeFingerprint } from '../transports/host-key.js';
import type { Transport } from '../transports/types.js';

/** A known_hosts line to append once the inventory is written. */
export interface AcceptedKey {
  file: string;
  line: string;
  host: string;
  fingerprint: string;
}

/** How an unknown key is judged: a flag, else a prompt (null: no prompt allowed, --yes). */
export interface KeyTrust {
  accepted: Map<string, string>;
  ask: ((question: string) => Promise<boolean>) | null;
}

/** The host's transport, and the key to record when it was unknown and accepted. */
export async function connectTrusting(host: HostEntry, inventory: Inventory, trust: KeyTrust): Promise<{ transport: Transport; accepted: AcceptedKey | null }> {
  const { connectSsh } = await import('../transports/ssh.js');
  try {
    return { transport: await connectSsh(host, inventory), accepted: null };
  } catch (error) {
    if (!(error instanceof UnknownHostKeyError)) throw error;
    await judge(host, error, trust);
    // Pinned to the accepted key: the connection that discovers is the one that was shown.
    const transport = await connectSsh({ ...host, hostKey: error.fingerprint }, inventory);
    const line = `${error.knownHostsName} ${error.keyType} ${error.key.toString('base64')}`;
    return { transport, accepted: { file: error.knownHostsFile, line, host: host.name, fingerprint: error.fingerprint } };
  }
}

async function judge(host: HostEntry, unknown: UnknownHostKeyError, trust: KeyTrust): Promise<void> {
  const label = hostLabel(host);
  const offered = `${unknown.keyType} ${unknown.fingerprint}`;
  const flag = trust.accepted.get(host.name);
  if (flag !== undefined) {
    if (normalizeFingerprint(flag) === normalizeFingerprint(unknown.fingerprint)) return;
    throw new HostTrustError(host.name, `${label} offered host key ${offered}, not the ${flag} that --accept-host-key names`, {
      hint: `check with ${host.name}'s administrator which key is genuine; nothing was written`,
    });
  }
  const notAccepted = `${label}: host key ${offered} is not in ${unknown.knownHostsFile} and was not accepted`;
  const howTo = `compare it with \`ssh-keygen -lf /etc/ssh/ssh_host_${unknown.keyType.replace(/^ssh-|-sha2-nistp\d+$/g, '')}_key.pub\` on ${host.name}, then run again and accept it, or pass --accept-host-key ${host.name}=${unknown.fingerprint}; nothing was written`;
  if (!trust.ask) throw new HostTrustError(host.name, notAccepted, { hint: `--yes never accepts an unknown key: ${howTo}` });
  const yes = await trust.ask(`${label} is not in ${unknown.knownHostsFile}.\nIts ${unknown.keyType} host key fingerprint is\n  ${unknown.fingerprint}\nTrust it and record it there?`);
  if (!yes) throw new HostTrustError(host.name, notAccepted, { hint: howTo });
}
