// The OpenSSH client config as ssh(1) reads it: checked against `ssh -G` itself, then
// Include, Match, ProxyJump and tokens one by one.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { jumpSpecText, parseProxyJump } from '../../src/transports/proxy-jump.js';
import { lookupSshConfig, readSshConfigFile, resolveSshConfig, type ResolvedSshConfig } from '../../src/transports/ssh-config.js';

const dir = mkdtempSync(join(tmpdir(), 'mirrorctl-sshcfg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
/** Writes a config file (and the files it includes) under the test dir; returns its path. */
function config(text: string, extra: Record<string, string> = {}): string {
  const base = join(dir, `c${(files += 1)}`);
  mkdirSync(base, { recursive: true });
  for (const [name, content] of Object.entries(extra)) {
    mkdirSync(join(base, name, '..'), { recursive: true });
    writeFileSync(join(base, name), content.replaceAll('BASE', base));
  }
  const file = join(base, 'config');
  writeFileSync(file, text.replaceAll('BASE', base));
  return file;
}

async function resolve(file: string, host: string): Promise<ResolvedSshConfig> {
  const found = await resolveSshConfig(host, file, { sshDir: join(file, '..', 'ssh-dir') });
  if (!found) throw new Error(`${file} was not read`);
  return found;
}

/** What `ssh -G` decides for the keywords mirrorctl reads. */
function sshG(file: string, host: string): Record<string, string> {
  const out = execFileSync('ssh', ['-G', '-F', file, host], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const values: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const [key, ...rest] = line.split(' ');
    if (key && ['hostname', 'user', 'port', 'proxyjump', 'userknownhostsfile'].includes(key)) values[key] = rest.join(' ');
  }
  return values;
}

describe('agrees with ssh -G', () => {
  const file = config(
    `# the first value obtained wins; general settings last
Include BASE/inc/*.conf
Host web? !web9 "quoted host"
  HostName 10.0.0.%h
  User alice
Host *.behind !*.direct.behind
  ProxyJump jump@bastion:2200,hop2
  UserKnownHostsFile BASE/kh1 BASE/kh2
Host bastion
  HostName=192.0.2.1
  Port 2200
Match originalhost ALIAS* user root
  Port 2022
Match host 10.0.0.*
  User matched
Host *
  Port 22
  User bob
`,
    { 'inc/b.conf': 'Host WEB1\n  Port 1111\n', 'inc/a.conf': 'Host web1\n  User early\n' },
  );
  const hosts = ['web1', 'WEB1', 'web9', 'web12', 'web', 'x.behind', 'y.direct.behind', 'bastion', 'alias1', 'other'];
  for (const host of hosts) {
    it(host, async () => {
      const mine = await resolve(file, host);
      const theirs = sshG(file, host);
      expect(mine.hostName ?? host.toLowerCase()).toBe(theirs.hostname);
      expect(mine.user ?? 'root').toBe(theirs.user);
      expect(String(mine.port ?? 22)).toBe(theirs.port);
      expect(mine.proxyJump?.map(jumpSpecText).join(',')).toBe(theirs.proxyjump);
      if (mine.userKnownHostsFiles.length > 0) expect(mine.userKnownHostsFiles.join(' ')).toBe(theirs.userknownhostsfile);
    });
  }
});

describe('Host patterns', () => {
  it('first match wins, a negated pattern vetoes its line, ? is exactly one character, case matters', async () => {
    const file = config('Host web? !web2\n  User a\nHost web*\n  User b\n  Port 2\nHost *\n  Port 3\n  User c\n');
    expect(await resolve(file, 'web1')).toMatchObject({ user: 'a', port: 2 });
    expect(await resolve(file, 'web2')).toMatchObject({ user: 'b', port: 2 });
    expect(await resolve(file, 'web')).toMatchObject({ user: 'b', port: 2 });
    expect(await resolve(file, 'WEB1')).toMatchObject({ user: 'c', port: 3 });
  });

  it('alsoNamed selects Host blocks too, in one reading; a HostName found only through it is not taken', async () => {
    const file = config('Host web1\n  HostName 10.9.9.9\n  User by-name\nHost prod-web1\n  Port 2201\n  User by-address\nHost *\n  Port 22\n  User general\n');
    const found = await resolveSshConfig('prod-web1', file, { alsoNamed: ['web1'] });
    expect(found).toMatchObject({ host: 'prod-web1', hostName: null, user: 'by-name', port: 2201 });
  });

  it('every IdentityFile that applies is kept, in order, with ~ and tokens expanded', async () => {
    const file = config('Host web1\n  HostName 10.1.1.1\n  User deploy\n  IdentityFile ~/.ssh/%h_%r_%p\nHost *\n  Port 2222\n  IdentityFile "/keys/with space"\n');
    const found = await resolve(file, 'web1');
    expect(found.identityFiles).toEqual([join(homedir(), '.ssh/10.1.1.1_deploy_2222'), '/keys/with space']);
    expect(found.sources.identityFiles).toBe(`${file} line 4`);
  });

  it('UserKnownHostsFile none and ProxyJump none say "nothing"; a later block cannot set them again', async () => {
    const file = config('Host a\n  UserKnownHostsFile none\n  ProxyJump none\nHost *\n  UserKnownHostsFile /x\n  ProxyJump b\n');
    expect(await resolve(file, 'a')).toMatchObject({ userKnownHostsFiles: [], proxyJump: null });
    expect(await resolve(file, 'z')).toMatchObject({ userKnownHostsFiles: ['/x'], proxyJump: [{ user: null, host: 'b', port: null }] });
  });

  it('ProxyCommand obtained first is reported; a ProxyJump obtained first wins over it', async () => {
    const file = config('Host a\n  ProxyCommand ssh -W %h:%p gw\nHost b\n  ProxyJump gw\nHost *\n  ProxyCommand nc %h %p\n');
    expect(await resolve(file, 'a')).toMatchObject({ proxyCommand: 'ssh -W %h:%p gw', proxyJump: null });
    expect(await resolve(file, 'b')).toMatchObject({ proxyCommand: null, proxyJump: [{ host: 'gw' }] });
  });

  it('a bad Port names the file and line', async () => {
    const file = config('Host a\n\n  Port 99999\n');
    const error = await resolve(file, 'a').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(`${file} line 3: Port 99999 is not a port number`);
  });

  it('a missing file is null, not an error', async () => {
    expect(await resolveSshConfig('a', join(dir, 'no-such-config'))).toBeNull();
  });
});

describe('Include', () => {
  it('relative paths are under ~/.ssh, globs expand in sorted order, a missing file is skipped', async () => {
    const file = config('Include conf.d/*.conf missing.conf\nHost *\n  User last\n', {
      'ssh-dir/conf.d/20-b.conf': 'Host web1\n  User second\n  Port 2\n',
      'ssh-dir/conf.d/10-a.conf': 'Host web1\n  User first\n',
      'ssh-dir/conf.d/.hidden.conf': 'Host web1\n  Port 9\n',
      'ssh-dir/conf.d/notes.txt': 'Host web1\n  Port 8\n',
    });
    const found = await resolve(file, 'web1');
    expect(found).toMatchObject({ user: 'first', port: 2, sources: { user: `${join(file, '..', 'ssh-dir/conf.d/10-a.conf')} line 2` } });
  });

  it('inside a Host block it applies only to that block; Host lines of the included file stay inside it; the block goes on after', async () => {
    const file = config('Host web1\n  Include BASE/inner.conf\n  Port 11\nHost *\n  User outer\n  Port 22\n', {
      'inner.conf': 'User from-include\nHost other\n  HostName other.example\n',
    });
    expect(await resolve(file, 'web1')).toMatchObject({ user: 'from-include', port: 11, hostName: null });
    expect(await resolve(file, 'other')).toMatchObject({ user: 'outer', port: 22, hostName: null });
  });

  it('nested includes are read in place; an Include loop is an error', async () => {
    const nested = config('Include BASE/one.conf\nHost *\n  Port 3\n', { 'one.conf': 'Include BASE/two.conf\n', 'two.conf': 'Host x\n  Port 2\n' });
    expect(await resolve(nested, 'x')).toMatchObject({ port: 2 });
    const loop = config('Include BASE/config\n');
    const error = await resolve(loop, 'x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/Include nested more than 16 deep/);
  });

  it('the files read are listed', async () => {
    const file = config('Include BASE/a.conf\n', { 'a.conf': '' });
    expect((await readSshConfigFile(file))!.files).toEqual([file, join(file, '..', 'a.conf')]);
  });
});

describe('Match', () => {
  it('host sees the HostName obtained so far, originalhost the name asked; ! negates; all matches', async () => {
    const file = config('Host alias\n  HostName 10.9.9.9\nMatch host 10.9.*\n  User by-hostname\nMatch !originalhost alias\n  Port 7\nMatch all\n  Port 8\n');
    expect(await resolve(file, 'alias')).toMatchObject({ hostName: '10.9.9.9', user: 'by-hostname', port: 8 });
    expect(await resolve(file, 'other')).toMatchObject({ user: null, port: 7 });
  });

  it('exec is never run, and its block does not apply', async () => {
    const marker = join(dir, 'exec-ran');
    const file = config(`Match exec "touch ${marker}"\n  Port 9\n`);
    expect((await resolve(file, 'x')).port).toBeNull();
    expect(existsSync(marker)).toBe(false);
  });
});

describe('ProxyJump values', () => {
  it('one hop or several, user and port optional, ssh:// and bracketed IPv6', () => {
    expect(parseProxyJump('bastion', 'f')).toEqual([{ user: null, host: 'bastion', port: null }]);
    expect(parseProxyJump('ops@jump1:2200,ssh://me@[2001:db8::1]:22,jump3', 'f')).toEqual([
      { user: 'ops', host: 'jump1', port: 2200 },
      { user: 'me', host: '2001:db8::1', port: 22 },
      { user: null, host: 'jump3', port: null },
    ]);
  });

  it('a malformed hop is a ConfigError naming where it was', () => {
    expect(() => parseProxyJump('a,,b', 'cfg line 4')).toThrow(/cfg line 4: ProxyJump hop "" is not \[user@\]host\[:port\]/);
    expect(() => parseProxyJump('a:70000', 'cfg line 4')).toThrow(ConfigError);
  });

  it('a config read once answers any number of lookups', async () => {
    const read = (await readSshConfigFile(config('Host a\n  ProxyJump j1,j2\n')))!;
    expect(lookupSshConfig(read, 'a').proxyJump?.map((h) => h.host)).toEqual(['j1', 'j2']);
    expect(lookupSshConfig(read, 'b').proxyJump).toBeNull();
  });
});
