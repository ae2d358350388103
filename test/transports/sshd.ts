// A throwaway OpenSSH server on 127.0.0.1 for the transport tests: its own host keys,
// authorized_keys, pid file and VERBOSE log, all in a temp dir removed by stop().
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostEntry, Inventory } from '../../src/inventory/schema.js';

export interface KeyPair {
  path: string;
  /** The `type base64 comment` line of the .pub file. */
  publicLine: string;
  type: string;
  blob: Buffer;
}

export interface TestSshd {
  dir: string;
  port: number;
  hostKeys: { ed25519: KeyPair; ecdsa: KeyPair };
  clientKey: KeyPair;
  logFile: string;
  /** `Accepted publickey` lines in sshd's log so far. */
  acceptedLogins(): number;
  stop(): Promise<void>;
}

export function keygen(dir: string, name: string, type: string, passphrase = ''): KeyPair {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', passphrase, '-C', name, '-f', path]);
  const publicLine = readFileSync(`${path}.pub`, 'utf8').trim();
  const [keyType, base64] = publicLine.split(/\s+/);
  return { path, publicLine, type: keyType!, blob: Buffer.from(base64!, 'base64') };
}

/** `ssh-keygen -l -E sha256` of a public key file, e.g. "SHA256:abc...". */
export function sshKeygenFingerprint(pubFile: string): string {
  return execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', pubFile], { encoding: 'utf8' }).split(/\s+/)[1]!;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts sshd; `extraConfig` lines are appended to its sshd_config. */
export async function startSshd(extraConfig: string[] = []): Promise<TestSshd> {
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(join(tmpdir(), 'mirrorctl-sshd-'));
  const hostKeys = { ed25519: keygen(dir, 'ssh_host_ed25519_key', 'ed25519'), ecdsa: keygen(dir, 'ssh_host_ecdsa_key', 'ecdsa') };
  const clientKey = keygen(dir, 'id_client', 'ed25519');
  mkdirSync(join(dir, 'home'));
  writeFileSync(join(dir, 'authorized_keys'), `${clientKey.publicLine}\n`, { mode: 0o600 });
  const logFile = join(dir, 'sshd.log');
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKeys.ed25519.path}`,
      `HostKey ${hostKeys.ecdsa.path}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      'StrictModes no',
      'UsePAM no',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'AllowTcpForwarding yes',
      'LogLevel VERBOSE',
      // Root's real ~/.bashrc (pyenv) costs ~1 s of CPU per command, which bash sources
      // for every SSH command; a bare HOME keeps these tests quick and their timing sane.
      `SetEnv HOME=${join(dir, 'home')}`,
      ...extraConfig,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const child: ChildProcess = spawn('/usr/sbin/sshd', ['-D', '-f', config, '-p', String(port), '-E', logFile], { stdio: 'ignore' });
  await waitForPort(port, child);
  return {
    dir,
    port,
    hostKeys,
    clientKey,
    logFile,
    acceptedLogins: () => (readFileSync(logFile, 'utf8').match(/Accepted publickey/g) ?? []).length,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`sshd did not listen on ${port}`);
}

/** A HostEntry for the test server; `ssh` and top-level fields overridable. */
export function hostEntry(sshd: { port: number; clientKey: KeyPair }, overrides: Partial<Omit<HostEntry, 'ssh'>> & { ssh?: Partial<HostEntry['ssh']> } = {}): HostEntry {
  const { ssh, ...rest } = overrides;
  return {
    name: 'web1',
    address: '127.0.0.1',
    alias: null,
    local: false,
    hostKey: null,
    ...rest,
    ssh: {
      user: 'root',
      port: sshd.port,
      identityFile: sshd.clientKey.path,
      passphraseEnv: null,
      knownHosts: '/nonexistent/known_hosts',
      connectTimeoutMs: 5000,
      sudo: false,
      configFile: null,
      identityFromConfig: false,
      jumpHosts: [],
      ...ssh,
    },
  };
}

/** A fresh inventory per connection attempt (known_hosts is read once per inventory). */
export function inventoryFor(host: HostEntry): Inventory {
  return {
    file: '/test/mirrorctl.yaml',
    dir: '/test',
    doc: { site: 'test', hosts: {} } as Inventory['doc'],
    site: 'test',
    hosts: new Map([[host.name, host]]),
    lineOf: () => null,
  };
}
