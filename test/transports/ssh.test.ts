// The SSH transport against a real OpenSSH server on 127.0.0.1.
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HostTrustError, HostUnreachableError } from '../../src/errors.js';
import type { HostEntry } from '../../src/inventory/schema.js';
import { fingerprint } from '../../src/transports/host-key.js';
import { command } from '../../src/transports/quote.js';
import { connectSsh } from '../../src/transports/ssh.js';
import type { Transport } from '../../src/transports/types.js';
import { freePort, hostEntry, inventoryFor, keygen, startSshd, type TestSshd } from './sshd.js';

let sshd: TestSshd;
let knownHosts: string;
const open: Transport[] = [];

beforeAll(async () => {
  sshd = await startSshd();
  knownHosts = writeKnownHosts('known_hosts', `[127.0.0.1]:${sshd.port} ${sshd.hostKeys.ed25519.publicLine}`);
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});
afterAll(async () => {
  await sshd?.stop();
});

function writeKnownHosts(name: string, ...lines: string[]): string {
  const file = join(sshd.dir, name);
  writeFileSync(file, lines.map((l) => `${l}\n`).join(''));
  return file;
}

function entry(overrides: Parameters<typeof hostEntry>[1] = {}): HostEntry {
  return hostEntry(sshd, { ...overrides, ssh: { knownHosts, ...overrides.ssh } });
}

async function connectTo(overrides: Parameters<typeof hostEntry>[1] = {}): Promise<Transport> {
  const host = entry(overrides);
  const transport = await connectSsh(host, inventoryFor(host));
  open.push(transport);
  return transport;
}

async function refusal(overrides: Parameters<typeof hostEntry>[1]): Promise<Error> {
  const error = await connectTo(overrides).then(
    () => new Error('connected, but should have been refused'),
    (e: Error) => e,
  );
  return error;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function eventually(check: () => boolean, withinMs: number): Promise<boolean> {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return check();
}

describe('commands', () => {
  it('returns stdout, stderr and the exit code without rejecting', async () => {
    const ssh = await connectTo();
    const result = await ssh.exec('echo out; echo err >&2; exit 3');
    expect(result).toMatchObject({ command: 'echo out; echo err >&2; exit 3', host: 'web1', exitCode: 3, signal: null, stdout: 'out\n', stderr: 'err\n', timedOut: false });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(await ssh.exec('cat', { input: 'fed on stdin\n' })).toMatchObject({ exitCode: 0, stdout: 'fed on stdin\n' });
    expect(await ssh.exec('echo "$LC_ALL"')).toMatchObject({ stdout: 'C\n' });
  });

  it('runs one command after another in one long-lived shell, each framed exactly: output without a newline, stderr apart, a forged end marker, many lines', async () => {
    const ssh = await connectTo();
    // The command's shell is run by `timeout`, itself run by the long-lived shell: the same
    // grandparent for every command means no new session (and no new sudo) per command.
    const grandparent = 'ps -o ppid= -p "$PPID" | tr -d " "';
    const first = await ssh.exec(grandparent);
    const second = await ssh.exec(grandparent);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(await ssh.exec('printf "no newline"; printf "to stderr" >&2; exit 7')).toMatchObject({ exitCode: 7, stdout: 'no newline', stderr: 'to stderr' });
    expect(await ssh.exec("printf '@@0123456789abcdef01234567 0\\n'; echo after")).toMatchObject({ exitCode: 0, stdout: '@@0123456789abcdef01234567 0\nafter\n' });
    const lines = await ssh.exec('a=1\nb="two\nlines"\nprintf "%s|%s" "$a" "$b"');
    expect(lines).toMatchObject({ exitCode: 0, stdout: '1|two\nlines' });
    const big = await ssh.exec(`head -c 3000000 /dev/zero | tr '\\0' x; echo; echo done >&2`);
    expect(big).toMatchObject({ exitCode: 0, stderr: 'done\n' });
    expect(big.stdout).toBe(`${'x'.repeat(3_000_000)}\n`);
    const third = await ssh.exec(grandparent);
    expect(third.stdout).toBe(first.stdout);
  });

  it('feeds stdin through the same long-lived shell byte for byte, never on a command line; a large one on a channel of its own', async () => {
    const ssh = await connectTo();
    const grandparent = 'ps -o ppid= -p "$PPID" | tr -d " "';
    const shell = await ssh.exec(grandparent);
    const withInput = await ssh.exec(`${grandparent} >&2; cat`, { input: 'x' });
    expect(withInput).toMatchObject({ exitCode: 0, stdout: 'x', stderr: shell.stdout });
    for (const input of ['', 'no newline', 'two\nlines\n\n', '\\c stops printf %b; \\0101 \\n %s %b \\', 'nul\0byte', 'crlf\r\n', '   \t', 'ünïcødé\n']) {
      expect(await ssh.exec('cat', { input }), JSON.stringify(input)).toMatchObject({ exitCode: 0, stdout: input });
    }
    // A secret on stdin is on no process's command line while the command runs.
    const secret = `stdin-secret-${process.pid}-${Date.now()}`;
    const running = ssh.exec('sleep 1; cat', { input: secret });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const commandLines = execFileSync('ps', ['-eww', '-o', 'args='], { encoding: 'utf8' });
    expect(commandLines).toContain('sleep 1; cat');
    expect(commandLines).not.toContain(secret);
    expect(await running).toMatchObject({ exitCode: 0, stdout: secret });
    const large = 'y'.repeat(200_000);
    const viaChannel = await ssh.exec(`${grandparent} >&2; cat`, { input: large });
    expect(viaChannel.stdout).toBe(large);
    expect(viaChannel.stderr).not.toBe(shell.stdout);
  });

  it('a command that leaves a process writing to its output: that shell is retired, and later commands get only their own output', async () => {
    const ssh = await connectTo();
    const grandparent = 'ps -o ppid= -p "$PPID" | tr -d " "';
    const before = await ssh.exec(grandparent);
    expect(await ssh.exec('(sleep 0.5; echo late; echo late >&2) & echo now')).toMatchObject({ exitCode: 0, stdout: 'now\n' });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const after = await ssh.exec(`echo clean; ${grandparent}`);
    expect(after.exitCode, after.stderr).toBe(0);
    expect(after.stderr).toBe('');
    expect(after.stdout.split('\n')[0]).toBe('clean');
    expect(after.stdout.split('\n')[1]).not.toBe(before.stdout.trim());
  });

  it('passes quoted arguments through as literal data and executes none of them', async () => {
    const ssh = await connectTo();
    const marker = join(sshd.dir, 'pwned');
    const args = [
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      `a; touch ${marker}`,
      `it's`,
      `say "hi" and 'bye'`,
      'two  spaces ',
      'line one\nline two',
      '*',
      '',
      '\\back\\slash',
      '$HOME ${PATH} && || | > <',
      'ünïcødé',
    ];
    const result = await ssh.exec(command('printf', '%s\\0', ...args));
    expect(result.exitCode).toBe(0);
    expect(result.stdout.split('\0').slice(0, -1)).toEqual(args);
    expect(existsSync(marker)).toBe(false);
  });

  it('times out on both sides: timedOut is reported and the process is gone from the host', async () => {
    const ssh = await connectTo();
    const pidFile = join(sshd.dir, 'sleep.pid');
    const result = await ssh.exec(`sleep 4242 & echo $! > ${pidFile}; wait`, { timeoutMs: 1000 });
    expect(result).toMatchObject({ timedOut: true, exitCode: null });
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(pid).toBeGreaterThan(0);
    expect(await eventually(() => !alive(pid), 10_000)).toBe(true);
    // The connection is still usable afterwards.
    expect(await ssh.exec('echo still here')).toMatchObject({ exitCode: 0, stdout: 'still here\n' });
  });

  it('runs 30 commands in parallel on one connection, never more than 8 at a time', async () => {
    const before = sshd.acceptedLogins();
    const ssh = await connectTo();
    const running = join(sshd.dir, 'running');
    execFileSync('mkdir', ['-p', running]);
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        ssh.exec(`mkdir ${running}/${i} && ls ${running} | wc -l && sleep 1 && rmdir ${running}/${i} && echo done ${i}`),
      ),
    );
    results.forEach((r, i) => {
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toContain(`done ${i}\n`);
    });
    const concurrent = Math.max(...results.map((r) => Number(r.stdout.split('\n')[0])));
    expect(concurrent).toBeLessThanOrEqual(8);
    expect(concurrent).toBeGreaterThan(1);
    expect(sshd.acceptedLogins() - before).toBe(1);
  });

  it('reports a failing `sudo -n` as an ordinary failed command', async () => {
    const ssh = await connectTo({ ssh: { sudo: true } });
    const result = await ssh.exec('id -u');
    expect(result.command).toBe('id -u');
    // Without sudo on this machine the shell says so; with it, root's `sudo -n` just works.
    if (result.exitCode === 0) expect(result.stdout).toBe('0\n');
    else expect(result.stderr).toMatch(/sudo/);
  });

  it('closes the channel on abort and reports SIGKILL', async () => {
    const ssh = await connectTo();
    const pidFile = join(sshd.dir, 'abort.pid');
    const controller = new AbortController();
    void eventually(() => existsSync(pidFile), 10_000).then(() => controller.abort());
    const result = await ssh.exec(`sleep 4343 & echo $! > ${pidFile}; wait`, { timeoutMs: 4000, signal: controller.signal });
    expect(result).toMatchObject({ signal: 'SIGKILL', exitCode: null, timedOut: false });
    const pid = Number(readFileSync(pidFile, 'utf8'));
    // sshd ignores signal requests for root sessions: the remote timeout ends it.
    expect(await eventually(() => !alive(pid), 15_000)).toBe(true);
  });

  it('keeps aborted commands counted until the host has ended them, so sshd never refuses a session', async () => {
    const ssh = await connectTo();
    const controller = new AbortController();
    const aborted = Array.from({ length: 10 }, () => ssh.exec('sleep 4444', { timeoutMs: 2000, signal: controller.signal }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    controller.abort();
    for (const result of await Promise.all(aborted)) expect(result.signal).toBe('SIGKILL');
    const after = await Promise.all(Array.from({ length: 10 }, (_, i) => ssh.exec(`echo ${i}`)));
    after.forEach((r, i) => expect(r).toMatchObject({ exitCode: 0, stdout: `${i}\n` }));
  });

  it('rejects with HostUnreachableError when the connection drops, and for later commands', async () => {
    const proxy = await tcpProxy(sshd.port);
    try {
      const host = entry({ ssh: { port: proxy.port } });
      writeFileSync(knownHosts + '.proxy', `[127.0.0.1]:${proxy.port} ${sshd.hostKeys.ed25519.publicLine}\n`);
      host.ssh.knownHosts = knownHosts + '.proxy';
      const ssh = await connectSsh(host, inventoryFor(host));
      open.push(ssh);
      const pending = ssh.exec('sleep 30');
      setTimeout(() => proxy.cut(), 500);
      await expect(pending).rejects.toBeInstanceOf(HostUnreachableError);
      await expect(ssh.exec('true')).rejects.toBeInstanceOf(HostUnreachableError);
    } finally {
      proxy.server.close();
    }
  });

  it('close() ends the connection', async () => {
    const ssh = await connectTo();
    await ssh.close();
    await expect(ssh.exec('true')).rejects.toBeInstanceOf(HostUnreachableError);
  });
});

describe('a host with a lower MaxSessions', () => {
  it('waits for a free session instead of failing, and says so when it gets none at all', async () => {
    for (const [maxSessions, outcome] of [
      ['3', 'succeeds'],
      ['0', 'refused'],
    ] as const) {
      const strict = await startSshd([`MaxSessions ${maxSessions}`]);
      try {
        const host = hostEntry(strict, { ssh: { knownHosts: join(strict.dir, 'known_hosts') } });
        writeFileSync(host.ssh.knownHosts, `[127.0.0.1]:${strict.port} ${strict.hostKeys.ed25519.publicLine}\n`);
        const ssh = await connectSsh(host, inventoryFor(host));
        open.push(ssh);
        if (outcome === 'succeeds') {
          const results = await Promise.all(Array.from({ length: 12 }, (_, i) => ssh.exec(`sleep 0.3; echo ${i}`)));
          results.forEach((r, i) => expect(r).toMatchObject({ exitCode: 0, stdout: `${i}\n` }));
        } else {
          const error = await ssh.exec('true').catch((e: Error) => e);
          expect(error).toBeInstanceOf(HostTrustError);
          expect((error as Error).message).toMatch(/sshd refused to open a session/);
        }
      } finally {
        await Promise.all(open.splice(0).map((t) => t.close()));
        await strict.stop();
      }
    }
  });
});

describe('forward', () => {
  it('reaches a TCP server as seen from the host', async () => {
    const echo = createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    try {
      const ssh = await connectTo();
      const stream = await ssh.forward((echo.address() as { port: number }).port);
      const reply = new Promise<string>((resolve) => stream.once('data', (d: Buffer) => resolve(d.toString())));
      stream.write('ping through the tunnel');
      expect(await reply).toBe('ping through the tunnel');
      stream.end();
    } finally {
      echo.close();
    }
  });

  it('rejects, without calling the host unreachable, when nothing listens there', async () => {
    const ssh = await connectTo();
    const error = await ssh.forward(await freePort()).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(HostUnreachableError);
    expect((error as Error).message).toMatch(/cannot reach 127\.0\.0\.1:\d+/);
  });
});

describe('host keys', () => {
  const ed25519 = () => sshd.hostKeys.ed25519;

  it('accepts a hashed known_hosts entry', async () => {
    const file = writeKnownHosts('hashed', `[127.0.0.1]:${sshd.port} ${ed25519().publicLine}`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    expect(readFileSync(file, 'utf8')).toMatch(/^\|1\|/);
    const ssh = await connectTo({ ssh: { knownHosts: file } });
    expect((await ssh.exec('true')).exitCode).toBe(0);
  });

  it('offers the server only the key types recorded for the host', async () => {
    // ssh2 would pick ed25519 first; with only the ECDSA key recorded, that must be what is negotiated.
    const file = writeKnownHosts('ecdsa-only', `[127.0.0.1]:${sshd.port} ${sshd.hostKeys.ecdsa.publicLine}`);
    const ssh = await connectTo({ ssh: { knownHosts: file } });
    expect((await ssh.exec('true')).exitCode).toBe(0);
  });

  it('does not take an entry for port 22 as one for another port', async () => {
    const file = writeKnownHosts('port22', `127.0.0.1 ${ed25519().publicLine}`);
    const error = await refusal({ ssh: { knownHosts: file } });
    expect(error).toBeInstanceOf(HostTrustError);
    expect(error.message).toMatch(/host key is not known/);
  });

  it('refuses an unknown host, naming the offered fingerprint, the file and how to add it', async () => {
    const before = sshd.acceptedLogins();
    const file = writeKnownHosts('empty');
    const error = (await refusal({ ssh: { knownHosts: file } })) as HostTrustError;
    expect(error).toBeInstanceOf(HostTrustError);
    expect(error.host).toBe('web1');
    expect(error.message).toBe(`web1 (127.0.0.1:${sshd.port}): host key is not known (ssh-ed25519 ${fingerprint(ed25519().blob)}) in ${file}`);
    expect(error.hint).toBe(`verify the fingerprint, then add it: ssh-keyscan -p ${sshd.port} 127.0.0.1 >> ${file}`);
    const missing = await refusal({ ssh: { knownHosts: join(sshd.dir, 'no-such-file') } });
    expect(missing.message).toMatch(/host key is not known .* \(the file does not exist\)$/);
    expect(sshd.acceptedLogins()).toBe(before);
  });

  it('refuses a changed key, naming its type and fingerprint and the file', async () => {
    const impostor = keygen(sshd.dir, 'old_host_key', 'ed25519');
    const file = writeKnownHosts('changed', `[127.0.0.1]:${sshd.port} ${impostor.publicLine}`);
    const error = (await refusal({ ssh: { knownHosts: file } })) as HostTrustError;
    expect(error).toBeInstanceOf(HostTrustError);
    expect(error.message).toContain('host key has changed');
    expect(error.message).toContain(`ssh-ed25519 ${fingerprint(ed25519().blob)}`);
    expect(error.message).toContain(file);
    expect(error.hint).toMatch(/reinstalled or the connection is being intercepted/);
    expect(error.hint).toContain(`ssh-keygen -R '[127.0.0.1]:${sshd.port}' -f ${file}`);
  });

  it('refuses a key marked @revoked even when it is also listed as known', async () => {
    const file = writeKnownHosts(
      'revoked',
      `@revoked * ${ed25519().publicLine}`,
      `[127.0.0.1]:${sshd.port} ${ed25519().publicLine}`,
    );
    const error = await refusal({ ssh: { knownHosts: file } });
    expect(error).toBeInstanceOf(HostTrustError);
    expect(error.message).toMatch(/is marked @revoked/);
  });

  it('refuses a host that has none of the recorded key types', async () => {
    const rsa = keygen(sshd.dir, 'rsa_host_key', 'rsa');
    const file = writeKnownHosts('rsa-only', `[127.0.0.1]:${sshd.port} ${rsa.publicLine}`);
    const error = await refusal({ ssh: { knownHosts: file } });
    expect(error).toBeInstanceOf(HostTrustError);
    expect(error.message).toMatch(/offers none of the host key types recorded for it in .* \(ssh-rsa\)/);
  });

  it('checks a pinned host_key instead of known_hosts', async () => {
    const pinned = fingerprint(ed25519().blob);
    const ssh = await connectTo({ hostKey: pinned, ssh: { knownHosts: join(sshd.dir, 'no-such-file') } });
    expect((await ssh.exec('true')).exitCode).toBe(0);
  });

  it('refuses a wrong pinned host_key with the offered fingerprint, running nothing', async () => {
    const before = sshd.acceptedLogins();
    const wrong = fingerprint(keygen(sshd.dir, 'pin_other', 'ed25519').blob);
    const error = (await refusal({ hostKey: wrong })) as HostTrustError;
    expect(error).toBeInstanceOf(HostTrustError);
    expect(error.message).toBe(`web1 (127.0.0.1:${sshd.port}): host key ssh-ed25519 ${fingerprint(ed25519().blob)} does not match the pinned host_key ${wrong}`);
    expect(sshd.acceptedLogins()).toBe(before);
  });
});

describe('authentication', () => {
  it('refuses a key the host does not accept, distinctly from host key errors', async () => {
    const stranger = keygen(sshd.dir, 'id_stranger', 'ed25519');
    const error = await refusal({ ssh: { identityFile: stranger.path } });
    expect(error).toBeInstanceOf(HostTrustError);
    expect(error.message).toBe(`web1 (127.0.0.1:${sshd.port}): authentication refused for root@127.0.0.1 (tried key ${stranger.path})`);
  });

  it('says so when there is neither a key nor an agent', async () => {
    const saved = process.env.SSH_AUTH_SOCK;
    delete process.env.SSH_AUTH_SOCK;
    try {
      const error = await refusal({ ssh: { identityFile: null } });
      expect(error).toBeInstanceOf(HostTrustError);
      expect(error.message).toMatch(/no identity_file is set and no SSH agent is running/);
    } finally {
      if (saved !== undefined) process.env.SSH_AUTH_SOCK = saved;
    }
  });

  it('uses the agent at $SSH_AUTH_SOCK when no identity_file is set', async () => {
    const socket = join(sshd.dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    const saved = process.env.SSH_AUTH_SOCK;
    try {
      await eventually(() => existsSync(socket), 5000);
      execFileSync('ssh-add', [sshd.clientKey.path], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: 'ignore' });
      process.env.SSH_AUTH_SOCK = socket;
      const ssh = await connectTo({ ssh: { identityFile: null } });
      expect((await ssh.exec('echo via agent')).stdout).toBe('via agent\n');
    } finally {
      if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
      else process.env.SSH_AUTH_SOCK = saved;
      agent.kill();
    }
  });

  it('reads a key passphrase only from the variable named by passphrase_env, and never reports it', async () => {
    const secret = 'correct horse battery staple';
    const locked = keygen(sshd.dir, 'id_locked', 'ed25519', secret);
    appendFileSync(join(sshd.dir, 'authorized_keys'), `${locked.publicLine}\n`);
    const env = 'MIRRORCTL_TEST_KEY_PASSPHRASE';
    try {
      process.env[env] = secret;
      const ssh = await connectTo({ ssh: { identityFile: locked.path, passphraseEnv: env } });
      expect((await ssh.exec('true')).exitCode).toBe(0);

      delete process.env[env];
      const unset = await refusal({ ssh: { identityFile: locked.path, passphraseEnv: env } });
      expect(unset).toBeInstanceOf(HostTrustError);
      expect(unset.message).toContain(`identity file ${locked.path} is encrypted and $${env} is not set`);

      process.env[env] = 'wrong horse';
      const wrong = (await refusal({ ssh: { identityFile: locked.path, passphraseEnv: env } })) as HostTrustError;
      expect(wrong).toBeInstanceOf(HostTrustError);
      expect(wrong.message).toContain(`cannot decrypt identity file ${locked.path} with the passphrase in $${env}`);
      expect(`${wrong.message} ${wrong.hint}`).not.toContain('wrong horse');
    } finally {
      delete process.env[env];
    }
  });
});

describe('unreachable hosts', () => {
  it('a closed port refused the connection', async () => {
    const port = await freePort();
    const error = (await refusal({ ssh: { port } })) as HostUnreachableError;
    expect(error).toBeInstanceOf(HostUnreachableError);
    expect(error.message).toBe(`web1 (127.0.0.1:${port}) refused the connection`);
    expect(error.hint).toMatch(/--to/);
  });

  it('a host that never answers the handshake times out within connect_timeout_ms', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const started = Date.now();
      const error = await refusal({ ssh: { port: (silent.address() as { port: number }).port, connectTimeoutMs: 1000 } });
      expect(error).toBeInstanceOf(HostUnreachableError);
      expect(error.message).toMatch(/did not answer within 1000 ms$/);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      silent.close();
    }
  });
});

/** A TCP relay to sshd whose connections the test can cut, to simulate a dropped network. */
async function tcpProxy(target: number): Promise<{ server: Server; port: number; cut(): void }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect({ port: target, host: '127.0.0.1' });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as { port: number }).port,
    cut: () => sockets.forEach((s) => s.destroy()),
  };
}
