// A bastion for the lab, built by the test that needs it (the default lab stays as it
// is): a network namespace on the lab's bridge running OpenSSH servers that let the
// lab's login user in with the operator's key and forward TCP onwards; and nftables
// rules inside the hosts' own namespaces that drop what the control machine sends to
// their SSH and HTTP ports, so the site can only be reached through the bastion.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, runOk } from '../../src/lab/exec.js';
import type { LabHostName, TestLab } from './lab.js';

export interface BastionServer {
  port: number;
  /** `address type key` (port 22) or `[address]:port type key`, as OpenSSH writes known_hosts. */
  knownHostsLine: string;
  /** `Accepted publickey` lines of this server's log, with the address they came from. */
  logins(): Array<{ from: string }>;
}

export interface LabBastion {
  netns: string;
  address: string;
  servers: BastionServer[];
  stop(): Promise<void>;
}

/** A namespace `<lab prefix>-bastion` at `.octet` on the lab network, an sshd on each of `ports`. */
export async function startBastion(lab: TestLab, octet: number, ports: number[]): Promise<LabBastion> {
  const prefix = lab.netns.web1.replace(/-web1$/, '');
  const netns = `${prefix}-bastion`;
  const veth = `${prefix}bs`;
  const address = `${lab.subnet}.${octet}`;
  const dir = mkdtempSync(join(tmpdir(), 'mirrorctl-bastion-'));
  chmodSync(dir, 0o755); // sshd reads authorized_keys as the login user
  await removeNamespace(netns, veth);
  await runOk('ip', ['netns', 'add', netns]);
  await runOk('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
  await runOk('ip', ['link', 'set', veth, 'master', lab.bridge]);
  await runOk('ip', ['link', 'set', veth, 'up']);
  await runOk('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
  await runOk('ip', ['-n', netns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
  await runOk('ip', ['-n', netns, 'link', 'set', 'eth0', 'up']);

  await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bastion-host', '-f', join(dir, 'host_key')]);
  const [type, key] = readFileSync(join(dir, 'host_key.pub'), 'utf8').trim().split(/\s+/);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${lab.identityFile}.pub`), { mode: 0o644 });
  const servers: BastionServer[] = [];
  const pidFiles: string[] = [];
  for (const port of ports) {
    const log = join(dir, `sshd-${port}.log`);
    const pidFile = join(dir, `sshd-${port}.pid`);
    const config = join(dir, `sshd-${port}.conf`);
    writeFileSync(
      config,
      [
        `ListenAddress ${address}:${port}`,
        `HostKey ${join(dir, 'host_key')}`,
        `PidFile ${pidFile}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        `AllowUsers ${lab.user}`,
        'PermitRootLogin no',
        'StrictModes no',
        'UsePAM no',
        'UseDNS no',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'AllowTcpForwarding yes',
        'LogLevel VERBOSE',
        '',
      ].join('\n'),
    );
    await runOk('install', ['-d', '-m', '0755', '/run/sshd']);
    await runOk('ip', ['netns', 'exec', netns, '/usr/sbin/sshd', '-f', config, '-E', log]);
    pidFiles.push(pidFile);
    await waitFor(() => readFileSync(pidFile, 'utf8').trim() !== '', `sshd on ${address}:${port} to write ${pidFile}`);
    servers.push({
      port,
      knownHostsLine: `${port === 22 ? address : `[${address}]:${port}`} ${type} ${key}`,
      logins: () => acceptedFrom(log),
    });
  }
  return {
    netns,
    address,
    servers,
    async stop() {
      for (const pidFile of pidFiles) {
        const pid = Number(readFileSync(pidFile, 'utf8').trim());
        if (pid > 0) process.kill(pid, 'SIGTERM');
      }
      await removeNamespace(netns, veth);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      if (check()) return;
    } catch {
      // not there yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}

async function removeNamespace(netns: string, veth: string): Promise<void> {
  await run('ip', ['link', 'del', veth]);
  await run('ip', ['netns', 'del', netns]);
}

/** `Accepted publickey for USER from ADDRESS port N` lines of an sshd log. */
export function acceptedFrom(log: string): Array<{ from: string }> {
  let text = '';
  try {
    text = readFileSync(log, 'utf8');
  } catch {
    return [];
  }
  return [...text.matchAll(/Accepted publickey for \S+ from (\S+) port/g)].map((m) => ({ from: m[1]! }));
}

const TABLE = 'mirrorctl_test_bastion';

/** nftables inside each host's namespace: tcp from the control machine to `ports` is dropped. */
export async function blockControlMachine(lab: TestLab, hosts: LabHostName[], ports: number[]): Promise<void> {
  const rules = `table inet ${TABLE} {\n  chain input {\n    type filter hook input priority 0; policy accept;\n    ip saddr ${lab.addresses.bridge} tcp dport { ${ports.join(', ')} } drop\n  }\n}\n`;
  for (const host of hosts) {
    await lab.hostExec(host, `nft delete table inet ${TABLE} 2>/dev/null; true`);
    const result = await lab.hostExec(host, 'nft -f -', { input: rules });
    if (result.exitCode !== 0) throw new Error(`nft on ${host}: ${result.stderr}`);
  }
}

/** Removes those rules. */
export async function unblockControlMachine(lab: TestLab, hosts: LabHostName[]): Promise<void> {
  for (const host of hosts) await lab.hostExec(host, `nft delete table inet ${TABLE} 2>/dev/null; true`);
}
