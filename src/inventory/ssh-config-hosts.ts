// The OpenSSH client config applied to the inventory's hosts (spec 5): each host is
// read as `ssh ADDRESS` reads it, its `Host` lines also selected by its inventory name
// (one reading of the file, so the first value obtained wins as in ssh(1), and a
// `Host *` at the end never hides a block written for the name or the address).
// What the inventory says explicitly wins; the config wins over the defaults.
// ProxyJump hops become jump hosts, each resolved in the same config like any host.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import type { JumpSpec } from '../transports/proxy-jump.js';
import type { ResolvedSshConfig, SshConfigFile } from '../transports/ssh-config.js';
import { expandPath } from './hosts.js';
import type { Problem } from './problems.js';
import { SSH_DEFAULTS, type HostEntry, type InventoryDocument, type SshSettings } from './schema.js';

/** How deep ProxyJump may chain through the jump hosts' own ProxyJump lines. */
const MAX_HOPS = 8;

type Explicit = Partial<SshSettings>;
type Lookup = (host: string, alsoNamed?: string[]) => ResolvedSshConfig;

/** The hosts with the OpenSSH config applied; a `config_file` given but missing is a problem at its key. */
export async function applySshConfig(
  doc: InventoryDocument,
  hosts: Map<string, HostEntry>,
  inventoryDir: string,
  fail: (problem: Problem) => never,
): Promise<Map<string, HostEntry>> {
  const { readSshConfigFile, lookupSshConfig } = await import('../transports/ssh-config.js');
  const files = new Map<string, Promise<SshConfigFile | null>>();
  const read = (file: string) => {
    let config = files.get(file);
    if (!config) files.set(file, (config = readSshConfigFile(file)));
    return config;
  };
  const out = new Map<string, HostEntry>();
  for (const [name, entry] of hosts) {
    const explicit: Explicit = { ...doc.ssh, ...doc.hosts[name]?.ssh };
    if (entry.local || !entry.address) {
      out.set(name, entry);
      continue;
    }
    const given = explicit.config_file;
    const file = given ? expandPath(given, inventoryDir) : path.join(homedir(), '.ssh', 'config');
    const config = await read(file);
    if (!config) {
      if (given) {
        const key = doc.hosts[name]?.ssh?.config_file ? ['hosts', name, 'ssh', 'config_file'] : ['ssh', 'config_file'];
        fail({ path: key, problem: `the OpenSSH config ${file} does not exist`, hint: 'fix the path, or remove the key to read ~/.ssh/config when it exists' });
      }
      out.set(name, entry);
      continue;
    }
    const lookup = (host: string, alsoNamed: string[] = []) => lookupSshConfig(config, host, { alsoNamed });
    try {
      out.set(name, resolveHost(entry, explicit, doc.ssh ?? {}, inventoryDir, config, lookup));
    } catch (error) {
      if (error instanceof ConfigError) throw new ConfigError(`hosts.${name}: ${error.message}`, { hint: error.hint, cause: error });
      throw error;
    }
  }
  return out;
}

/** One inventory host: its address looked up, its name selecting Host blocks too; HostName only resolves the address. */
function resolveHost(entry: HostEntry, explicit: Explicit, topLevel: Explicit, dir: string, config: SshConfigFile, lookup: Lookup): HostEntry {
  const address = entry.address!;
  const found = lookup(address, [entry.name]);
  refuseProxyCommand(found, entry.name);
  const identityFile = explicit.identity_file ? null : firstExisting(found.identityFiles);
  const knownHosts = found.userKnownHostsFiles[0] ?? null;
  return {
    ...entry,
    address: found.hostName ?? address,
    alias: found.hostName !== null && found.hostName !== address ? address : null,
    ssh: {
      ...entry.ssh,
      user: explicit.user ?? found.user ?? SSH_DEFAULTS.user,
      port: explicit.port ?? found.port ?? SSH_DEFAULTS.port,
      identityFile: identityFile ?? entry.ssh.identityFile,
      identityFromConfig: identityFile !== null,
      knownHosts: explicit.known_hosts || !knownHosts ? entry.ssh.knownHosts : knownHosts,
      configFile: config.file,
      jumpHosts: found.proxyJump ? jumpChain(found.proxyJump, topLevel, dir, config, lookup, 0) : [],
    },
  };
}

/**
 * The hops to go through, first hop first. As with `ssh -J a,b`: the last hop is
 * reached through the ones before it, and only the first hop's own ProxyJump (from
 * the config) is followed further.
 */
function jumpChain(specs: JumpSpec[], topLevel: Explicit, dir: string, config: SshConfigFile, lookup: Lookup, depth: number): HostEntry[] {
  if (depth >= MAX_HOPS) throw new ConfigError(`ProxyJump in ${config.file} chains more than ${MAX_HOPS} jump hosts (a loop?)`, { hint: 'fix the ProxyJump lines of the OpenSSH config' });
  const [head, ...rest] = specs;
  if (!head) return [];
  const headConfig = lookup(head.host);
  refuseProxyCommand(headConfig, head.host);
  const before = headConfig.proxyJump ? jumpChain(headConfig.proxyJump, topLevel, dir, config, lookup, depth + 1) : [];
  return [...before, jumpHost(head, headConfig, topLevel, dir, config), ...rest.map((spec) => jumpHost(spec, lookup(spec.host), topLevel, dir, config))];
}

/**
 * A jump host is no inventory host: the hop as written, then the config file's entry
 * for it, then the inventory's top-level `ssh` settings (the operator's key, known_hosts,
 * login and timeout) and their defaults; its port defaults to 22, as in OpenSSH.
 */
function jumpHost(spec: JumpSpec, resolved: ResolvedSshConfig, topLevel: Explicit, dir: string, config: SshConfigFile): HostEntry {
  const identityFile = firstExisting(resolved.identityFiles);
  const address = resolved.hostName ?? spec.host;
  return {
    name: spec.host,
    address,
    alias: address !== spec.host ? spec.host : null,
    local: false,
    hostKey: null,
    ssh: {
      user: spec.user ?? resolved.user ?? topLevel.user ?? SSH_DEFAULTS.user,
      port: spec.port ?? resolved.port ?? 22,
      identityFile: identityFile ?? (topLevel.identity_file ? expandPath(topLevel.identity_file, dir) : null),
      identityFromConfig: identityFile !== null,
      passphraseEnv: topLevel.passphrase_env ?? null,
      knownHosts: resolved.userKnownHostsFiles[0] ?? expandPath(topLevel.known_hosts ?? SSH_DEFAULTS.known_hosts, dir),
      connectTimeoutMs: topLevel.connect_timeout_ms ?? SSH_DEFAULTS.connect_timeout_ms,
      sudo: false,
      configFile: config.file,
      jumpHosts: [],
    },
  };
}

function refuseProxyCommand(resolved: ResolvedSshConfig, host: string): void {
  if (resolved.proxyCommand === null) return;
  throw new ConfigError(`${resolved.sources.proxyCommand}: ProxyCommand applies to ${host}, and mirrorctl cannot run one (ssh2 connects by itself)`, {
    hint: `use ProxyJump for ${host} instead, or give it \`ProxyCommand none\` in a Host block before that line`,
  });
}

/** The first identity file that exists: OpenSSH skips missing ones too. */
function firstExisting(files: string[]): string | null {
  return files.find((file) => existsSync(file)) ?? null;
}
