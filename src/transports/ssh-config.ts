// What an OpenSSH client config says for one host, decided as ssh(1) decides it:
// `Host` patterns (with `!` negations) and `Match` blocks, top to bottom, the first
// value obtained for each keyword winning (every `IdentityFile` adds one more).
// Only what mirrorctl uses is kept: HostName, User, Port, IdentityFile,
// UserKnownHostsFile, ProxyJump and ProxyCommand.
import { homedir, hostname as localHostname, userInfo } from 'node:os';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import { parseProxyJump, type JumpSpec } from './proxy-jump.js';
import { readSshConfigFile, type ConfigBlock, type ReadOptions, type SshConfigFile } from './ssh-config-file.js';

export type { JumpSpec, ReadOptions, SshConfigFile };

export { readSshConfigFile };

/** The config's answer for one host name or alias; null/empty: the config says nothing. */
export interface ResolvedSshConfig {
  /** The name looked up (what `%h` in HostName and `%n` stand for). */
  host: string;
  /** HostName with `%h` expanded: where to connect instead of `host`. */
  hostName: string | null;
  user: string | null;
  port: number | null;
  /** Every IdentityFile that applies, in order, with `~`, `%` tokens and `${VAR}` expanded. */
  identityFiles: string[];
  /** UserKnownHostsFile's files, expanded likewise ([] also for `none`). */
  userKnownHostsFiles: string[];
  /** ProxyJump's hops, first hop first; null when unset or `none`. */
  proxyJump: JumpSpec[] | null;
  /** ProxyCommand when it was obtained before any ProxyJump (mirrorctl cannot run one); null otherwise. */
  proxyCommand: string | null;
  /** "FILE line N" of each value found, for messages. */
  sources: Partial<Record<'hostName' | 'user' | 'port' | 'identityFiles' | 'userKnownHostsFiles' | 'proxyJump' | 'proxyCommand', string>>;
}

export interface LookupOptions {
  /**
   * Other names that select `Host` blocks too (mirrorctl: the inventory name of a host
   * whose `host` is its address). A HostName found only through them is not taken: it
   * would replace the address that was asked for.
   */
  alsoNamed?: string[];
}

/** Reads `configFile` (with its includes) and resolves `hostNameOrAlias` in it; null when the file does not exist. */
export async function resolveSshConfig(hostNameOrAlias: string, configFile: string, options: ReadOptions & LookupOptions = {}): Promise<ResolvedSshConfig | null> {
  const config = await readSshConfigFile(configFile, options);
  return config && lookupSshConfig(config, hostNameOrAlias, options);
}

/** Resolves one host name or alias in a config already read (no I/O). */
export function lookupSshConfig(config: SshConfigFile, host: string, options: LookupOptions = {}): ResolvedSshConfig {
  const found: ResolvedSshConfig = { host, hostName: null, user: null, port: null, identityFiles: [], userKnownHostsFiles: [], proxyJump: null, proxyCommand: null, sources: {} };
  const names = [host, ...(options.alsoNamed ?? []).filter((name) => name !== host)];
  let knownHostsSet = false;
  let proxySet = false;
  const active = new Map<ConfigBlock, boolean>();
  const isActive = (block: ConfigBlock) => {
    let value = active.get(block);
    if (value === undefined) active.set(block, (value = blockMatches(block, found, names)));
    return value;
  };
  for (const directive of config.directives) {
    if (!directive.blocks.every(isActive)) continue;
    const where = `${directive.file} line ${directive.line}`;
    const first = directive.values[0] ?? '';
    switch (directive.keyword) {
      case 'hostname':
        if (found.hostName === null && directive.blocks.every((block) => block.kind !== 'host' || blockMatches(block, found, [host]))) {
          [found.hostName, found.sources.hostName] = [expandHostName(first, host), where];
        }
        break;
      case 'user':
        if (found.user === null) [found.user, found.sources.user] = [first, where];
        break;
      case 'port':
        if (found.port === null) [found.port, found.sources.port] = [portOf(first, where), where];
        break;
      case 'identityfile':
        found.identityFiles.push(first);
        found.sources.identityFiles ??= where;
        break;
      case 'userknownhostsfile':
        if (!knownHostsSet) {
          knownHostsSet = true;
          found.userKnownHostsFiles = first.toLowerCase() === 'none' ? [] : directive.values;
          found.sources.userKnownHostsFiles = where;
        }
        break;
      case 'proxyjump':
        if (!proxySet) {
          proxySet = true;
          found.proxyJump = first.toLowerCase() === 'none' ? null : parseProxyJump(first, where);
          found.sources.proxyJump = where;
        }
        break;
      case 'proxycommand':
        if (!proxySet) {
          proxySet = true;
          const command = directive.values.join(' ');
          found.proxyCommand = command.toLowerCase() === 'none' ? null : command;
          found.sources.proxyCommand = where;
        }
        break;
    }
  }
  const tokens = pathTokens(found);
  found.identityFiles = found.identityFiles.map((file) => expandPath(file, tokens));
  found.userKnownHostsFiles = found.userKnownHostsFiles.map((file) => expandPath(file, tokens));
  return found;
}

/** Whether a Host or Match line applies to any of `names`, given what has been obtained so far. */
function blockMatches(block: ConfigBlock, found: ResolvedSshConfig, names: string[]): boolean {
  // As ssh(1): Host patterns are case-sensitive; Match host and originalhost are not.
  if (block.kind === 'host') return names.some((name) => patternListMatches(block.words, name, false));
  const words = [...block.words];
  while (words.length > 0) {
    const word = words.shift()!;
    const negated = word.startsWith('!');
    const criterion = word.slice(negated ? 1 : 0).toLowerCase();
    if (criterion === 'all') continue;
    // canonical and final match only in passes mirrorctl does not make; exec is never run.
    if (criterion === 'canonical' || criterion === 'final') return false;
    const argument = words.shift();
    if (argument === undefined) throw new ConfigError(`${block.file} line ${block.line}: Match ${criterion} needs an argument`, { hint: 'fix the Match line of the OpenSSH config' });
    let matched: boolean;
    switch (criterion) {
      case 'host':
        matched = patternListMatches(argument.split(','), found.hostName ?? found.host, true);
        break;
      case 'originalhost':
        matched = names.some((name) => patternListMatches(argument.split(','), name, true));
        break;
      case 'user':
        matched = patternListMatches(argument.split(','), found.user ?? localUser(), false);
        break;
      case 'localuser':
        matched = patternListMatches(argument.split(','), localUser(), false);
        break;
      default:
        return false; // exec, localnetwork, tagged, version, sessiontype, command: not applied
    }
    if (matched === negated) return false;
  }
  return true;
}

/** An OpenSSH pattern list: any positive pattern matches and no `!` pattern does. */
export function patternListMatches(patterns: string[], text: string, ignoreCase: boolean): boolean {
  let matched = false;
  for (const pattern of patterns) {
    if (pattern.startsWith('!')) {
      if (patternMatches(pattern.slice(1), text, ignoreCase)) return false;
    } else if (patternMatches(pattern, text, ignoreCase)) {
      matched = true;
    }
  }
  return matched;
}

// `*` any run of characters, `?` exactly one.
function patternMatches(pattern: string, text: string, ignoreCase: boolean): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's').test(text);
}

function portOf(text: string, where: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) throw new ConfigError(`${where}: Port ${text} is not a port number`, { hint: 'fix the OpenSSH config' });
  return port;
}

// HostName knows `%h` (the name looked up) and `%%`.
function expandHostName(text: string, host: string): string {
  return text.replace(/%([%h])/g, (_, token: string) => (token === '%' ? '%' : host));
}

function localUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'root';
  }
}

function pathTokens(found: ResolvedSshConfig): Record<string, string> {
  let uid = '';
  try {
    uid = String(userInfo().uid);
  } catch {
    // no passwd entry: %i stays empty
  }
  const fqdn = localHostname();
  return {
    '%': '%',
    d: homedir(),
    h: found.hostName ?? found.host,
    i: uid,
    L: fqdn.split('.')[0] ?? fqdn,
    l: fqdn,
    n: found.host,
    p: String(found.port ?? 22),
    r: found.user ?? localUser(),
    u: localUser(),
  };
}

/** `~`, `%` tokens and `${VAR}` in IdentityFile and UserKnownHostsFile, as ssh(1) expands them. */
function expandPath(text: string, tokens: Record<string, string>): string {
  let out = text.replace(/%(.)/g, (whole, token: string) => tokens[token] ?? whole);
  out = out.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => process.env[name] ?? '');
  if (out === '~') return homedir();
  if (out.startsWith('~/')) return path.join(homedir(), out.slice(2));
  return out;
}
