// OpenSSH ProxyJump values: `[user@]host[:port]` or `ssh://[user@]host[:port]`,
// comma-separated, first hop first; an IPv6 address goes in brackets.
import { ConfigError } from '../errors.js';

/** One hop as written; what it does not say comes from the config file's entry for `host`. */
export interface JumpSpec {
  user: string | null;
  host: string;
  port: number | null;
}

/** Parses a ProxyJump value; `where` names it in the error ("FILE line N"). */
export function parseProxyJump(text: string, where: string): JumpSpec[] {
  return text.split(',').map((hop) => parseHop(hop.trim(), where));
}

function parseHop(text: string, where: string): JumpSpec {
  const bad = () =>
    new ConfigError(`${where}: ProxyJump hop "${text}" is not [user@]host[:port]`, { hint: 'fix the ProxyJump line of the OpenSSH config' });
  let rest = text.startsWith('ssh://') ? text.slice('ssh://'.length).replace(/\/$/, '') : text;
  let user: string | null = null;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (user === '') throw bad();
  }
  let host = rest;
  let port: number | null = null;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  const withPort = /^([^:]+):(\d+)$/.exec(rest);
  if (bracketed) [host, port] = [bracketed[1]!, bracketed[2] === undefined ? null : Number(bracketed[2])];
  else if (withPort) [host, port] = [withPort[1]!, Number(withPort[2])];
  if (host === '' || /[\s/@]/.test(host) || (port !== null && (port < 1 || port > 65535))) throw bad();
  return { user, host, port };
}

/** How messages write a hop: `user@host:port` with only the parts given. */
export function jumpSpecText(spec: JumpSpec): string {
  const host = spec.host.includes(':') ? `[${spec.host}]` : spec.host;
  return `${spec.user ? `${spec.user}@` : ''}${host}${spec.port ? `:${spec.port}` : ''}`;
}
