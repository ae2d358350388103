// `mirrorctl init` flags, read into answers; a malformed flag is a usage error (exit 2).
import path from 'node:path';
import { ConfigError } from '../errors.js';
import type { CommonOptions } from '../commands/options.js';

export interface InitOptions extends CommonOptions {
  output?: string;
  force?: boolean;
  site?: string;
  host?: string[];
  sshUser?: string;
  sshPort?: string;
  identityFile?: string;
  knownHosts?: string;
  sudo?: boolean;
  portableIp?: string;
  interface?: string[];
  passwordEnv?: string;
  dbPort?: string;
  serviceStart?: string;
  serviceStop?: string;
  memcached?: string[];
  sessionsFile?: string;
  sessionsKey?: string;
  readOnly?: string;
  readWrite?: string;
  sessionsReload?: string;
  files?: string[];
  httpUrl?: string;
  acceptHostKey?: string[];
}

/** Everything init knows before it asks or connects; later filled by prompts. */
export interface Answers {
  site: string | null;
  hosts: Array<{ name: string; address: string }>;
  ssh: { user?: string; port?: number; identityFile?: string; knownHosts?: string; sudo?: boolean };
  /** As given: with or without /PREFIX. */
  portableIp: string | null;
  interfaces: Map<string, string>;
  /** undefined: not given; null: none (the server needs no password). */
  passwordEnv: string | null | undefined;
  dbPort: number | undefined;
  service: { start?: string; stop?: string };
  memcached: string[];
  sessions: { file?: string; key?: string; readOnly?: string; readWrite?: string; reload?: string };
  files: string[];
  httpUrl: string | null;
  /** host name → fingerprint accepted by --accept-host-key. */
  acceptedKeys: Map<string, string>;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Reads the flags; every problem is a ConfigError naming the flag. */
export function answersFromFlags(options: InitOptions): Answers {
  const hosts = (options.host ?? []).map((spec) => {
    const [name, address] = split(spec, '--host', 'NAME=ADDRESS');
    if (!NAME.test(name)) throw usage(`--host ${spec}: the host name must be letters, digits, . _ -`);
    return { name, address: address || name };
  });
  if (hosts.length > 2) throw usage(`--host was given ${hosts.length} times; a site is a pair: give it twice`);
  if (hosts.length === 2 && hosts[0]!.name === hosts[1]!.name) throw usage(`--host names ${hosts[0]!.name} twice; the two hosts need two names`);
  const names = new Set(hosts.map((h) => h.name));
  const perHost = (flag: string, values: string[] | undefined, shape: string) =>
    new Map(
      (values ?? []).map((spec) => {
        const [name, value] = split(spec, flag, shape);
        if (names.size > 0 && !names.has(name)) throw usage(`${flag} ${spec}: ${name} is not one of the --host names (${[...names].join(', ')})`);
        return [name, value] as const;
      }),
    );
  const acceptedKeys = perHost('--accept-host-key', options.acceptHostKey, 'NAME=SHA256:...');
  for (const [name, fp] of acceptedKeys) {
    if (!/^SHA256:[A-Za-z0-9+/]+=*$/.test(fp)) throw usage(`--accept-host-key ${name}=${fp}: the fingerprint must look like SHA256:... (as ssh-keygen -l prints it)`);
  }
  if (options.site !== undefined && !NAME.test(options.site)) throw usage(`--site ${options.site}: must be a simple name (letters, digits, . _ -)`);
  if (options.passwordEnv !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(options.passwordEnv)) {
    throw usage(`--password-env ${options.passwordEnv}: give the NAME of an environment variable, never the password`);
  }
  if (options.portableIp !== undefined && !/^\d+\.\d+\.\d+\.\d+(\/\d{1,2})?$/.test(options.portableIp)) {
    throw usage(`--portable-ip ${options.portableIp}: give ADDRESS/PREFIX, like 192.0.2.100/24`);
  }
  for (const server of options.memcached ?? []) if (!/^[^\s:]+:\d+$/.test(server)) throw usage(`--memcached ${server}: give HOST:PORT`);
  for (const file of [...(options.files ?? []), options.sessionsFile ?? '/']) {
    if (!file.startsWith('/')) throw usage(`${file}: paths on the hosts must be absolute (the same on both hosts)`);
  }
  if (options.httpUrl !== undefined && !/^https?:\/\/\S+$/.test(options.httpUrl)) throw usage(`--http-url ${options.httpUrl}: give an http:// or https:// URL`);
  return {
    site: options.site ?? null,
    hosts,
    ssh: {
      user: options.sshUser,
      port: options.sshPort === undefined ? undefined : port('--ssh-port', options.sshPort),
      identityFile: localPath(options.identityFile),
      knownHosts: localPath(options.knownHosts),
      sudo: options.sudo,
    },
    portableIp: options.portableIp ?? null,
    interfaces: perHost('--interface', options.interface, 'HOST=IFACE'),
    passwordEnv: options.passwordEnv,
    dbPort: options.dbPort === undefined ? undefined : port('--db-port', options.dbPort),
    service: { start: options.serviceStart, stop: options.serviceStop },
    memcached: options.memcached ?? [],
    sessions: { file: options.sessionsFile, key: options.sessionsKey, readOnly: options.readOnly, readWrite: options.readWrite, reload: options.sessionsReload },
    files: options.files ?? [],
    httpUrl: options.httpUrl ?? null,
    acceptedKeys,
  };
}

/** A path on the control machine, absolute (so the inventory means the same from any directory); `~` kept. */
export function localPath(file: string | undefined): string | undefined {
  if (file === undefined || file === '' || file === '~' || file.startsWith('~/')) return file;
  return path.resolve(file);
}

function split(spec: string, flag: string, shape: string): [string, string] {
  const eq = spec.indexOf('=');
  if (flag === '--host' && eq < 0) return [spec, ''];
  if (eq <= 0 || eq === spec.length - 1) throw usage(`${flag} ${spec}: give ${shape}`);
  return [spec.slice(0, eq), spec.slice(eq + 1)];
}

function port(flag: string, text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535) throw usage(`${flag} ${text}: give a port number (1-65535)`);
  return n;
}

function usage(message: string): ConfigError {
  return new ConfigError(message, { hint: 'see mirrorctl init --help' });
}
