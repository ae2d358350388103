// `mirrorctl init` on the production-like lab: flags only (--yes), and a person at a
// terminal; the file it writes passes validate and runs `switchover --dry-run` with exit 0.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { quote } from '../../src/transports/quote.js';
import { runCli } from '../helpers/cli.js';
import { ensureLab, type TestLab } from '../helpers/lab.js';
import { onPty } from '../helpers/pty.js';

let lab: TestLab;
/** SHA256 fingerprint of each lab host's key, as ssh-keygen prints it from the lab's own known_hosts. */
const fingerprint: Record<'web1' | 'web2', string> = { web1: '', web2: '' };

beforeAll(async () => {
  lab = await ensureLab();
  const listed = spawnSync('ssh-keygen', ['-l', '-f', lab.knownHostsFile], { encoding: 'utf8' }).stdout;
  for (const host of ['web1', 'web2'] as const) {
    fingerprint[host] = /(SHA256:\S+)/.exec(listed.split('\n').find((l) => l.includes(`[${lab.addresses[host]}]:${lab.sshPort}`)) ?? '')?.[1] ?? '';
    expect(fingerprint[host]).toMatch(/^SHA256:/);
  }
});

function workDir(): string {
  return mkdtempSync(join(tmpdir(), 'mirrorctl-init-'));
}

/** The flags that describe the lab's site, except the host keys. */
function siteFlags(dir: string): string[] {
  return [
    '-o', join(dir, 'mirrorctl.yaml'),
    '--site', 'wiki',
    '--host', `web1=${lab.addresses.web1}`,
    '--host', `web2=${lab.addresses.web2}`,
    '--ssh-user', lab.user,
    '--ssh-port', String(lab.sshPort),
    '--identity-file', lab.identityFile,
    '--known-hosts', join(dir, 'known_hosts'),
    '--portable-ip', lab.portableCidr,
    '--password-env', 'WIKI_DB_PASSWORD',
    '--sessions-file', '/etc/wiki/app.ini',
    '--read-only', 'memcache',
    '--read-write', 'database',
    '--files', '/srv/wiki/uploads',
    '--files', '/srv/wiki/avatars',
    '--http-url', `http://${lab.portableIp}/health`,
  ];
}

const accept = () => ['--accept-host-key', `web1=${fingerprint.web1}`, '--accept-host-key', `web2=${fingerprint.web2}`];

async function dryRun(dir: string, env: Record<string, string> = {}) {
  return runCli(['switchover', '--dry-run', '-c', join(dir, 'mirrorctl.yaml'), '--state-dir', join(dir, 'state')], { env });
}

describe('mirrorctl init --yes (flags only, no terminal)', () => {
  it('never accepts an unknown host key by itself: exit 3 naming the fingerprint, nothing written', async () => {
    const dir = workDir();
    const r = await runCli(['init', '--yes', ...siteFlags(dir)]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(fingerprint.web1);
    expect(r.stderr).toMatch(/--accept-host-key web1=SHA256:/);
    expect(existsSync(join(dir, 'mirrorctl.yaml'))).toBe(false);
    expect(existsSync(join(dir, 'known_hosts'))).toBe(false);
  });

  it('refuses an --accept-host-key that names another key (exit 3, nothing written)', async () => {
    const dir = workDir();
    const r = await runCli(['init', '--yes', ...siteFlags(dir), '--accept-host-key', `web1=${fingerprint.web2}`, '--accept-host-key', `web2=${fingerprint.web2}`]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/not the SHA256:\S+ that --accept-host-key names/);
    expect(existsSync(join(dir, 'mirrorctl.yaml'))).toBe(false);
    expect(existsSync(join(dir, 'known_hosts'))).toBe(false);
  });

  it('with the fingerprints: finds the rest, records the keys, writes a file validate accepts, and switchover --dry-run exits 0', async () => {
    const dir = workDir();
    const r = await runCli(['init', '--yes', ...siteFlags(dir), ...accept()]);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    const written = readFileSync(join(dir, 'mirrorctl.yaml'), 'utf8');
    const doc = parse(written);
    // Found on the hosts, not given: interfaces, database, memcached, sudo, the sessions key.
    expect(doc.hosts.web1.interface).toBe(lab.iface.web1);
    expect(doc.hosts.web2.interface).toBe(lab.iface.web2);
    expect(doc.ssh.sudo).toBe(true);
    expect(doc.database).toMatchObject({ port: lab.pgPort, data_dir: '/var/lib/postgresql/15/main', bin_dir: '/usr/lib/postgresql/15/bin', replication_user: 'replicator' });
    // No service manager unit runs the lab's database: pg_ctl as the data directory's owner.
    expect(doc.database.service.stop).toMatch(/^cd \/ && su postgres -s \/bin\/sh -c ".*pg_ctl -D \/var\/lib\/postgresql\/15\/main -m fast -w -t 90 stop"$/);
    expect(doc.memcached.servers).toEqual([`${lab.addresses.web1}:11211`, `${lab.addresses.web2}:11211`]);
    expect(doc.sessions.key).toBe('session.backend');
    expect(written).toMatch(/interface: ens3 +# holds the portable IP now/);
    expect(readFileSync(join(dir, 'known_hosts'), 'utf8').trim().split('\n')).toHaveLength(2);
    expect(r.stderr).toMatch(/recorded web1's host key SHA256:/);

    const validate = await runCli(['validate', '-c', join(dir, 'mirrorctl.yaml')]);
    expect(validate.code).toBe(0);
    const plan = await dryRun(dir);
    expect({ code: plan.code, stderr: plan.stderr }).toMatchObject({ code: 0 });
    expect(plan.stdout).toMatch(/planned in/);
  });

  it('the pg_ctl commands it writes really stop and start the server (on the replica; the lab is as it was after)', async () => {
    const dir = workDir();
    expect((await runCli(['init', '--yes', ...siteFlags(dir), ...accept()])).code).toBe(0);
    const { stop, start } = parse(readFileSync(join(dir, 'mirrorctl.yaml'), 'utf8')).database.service;
    const running = async () => (await lab.ssh('web2', `sudo -n sh -c 'ss -Hltnp | grep -c "\\"postgres\\"" || true'`)).stdout.trim();
    expect(Number(await running())).toBeGreaterThan(0);
    const stopped = await lab.ssh('web2', `sudo -n sh -c ${quote(stop)}`);
    expect({ code: stopped.exitCode, out: stopped.stderr }).toMatchObject({ code: 0 });
    expect(await running()).toBe('0');
    const started = await lab.ssh('web2', `sudo -n sh -c ${quote(start)}`);
    expect({ code: started.exitCode, out: started.stderr }).toMatchObject({ code: 0 });
    expect(Number(await running())).toBeGreaterThan(0);
    await expect.poll(() => lab.deviations(), { timeout: 60_000, interval: 500 }).toEqual([]);
  });

  it('what it cannot find and was not given: exit 5, commented placeholders each named on stderr; validate names them', async () => {
    const dir = workDir();
    const flags = siteFlags(dir).filter((f, i, all) => !['--sessions-file', '--files', '--http-url'].includes(f) && !['--sessions-file', '--files', '--http-url'].includes(all[i - 1] ?? ''));
    const r = await runCli(['init', '--yes', ...flags, ...accept()]);
    expect(r.code).toBe(5);
    for (const key of ['sessions.file', 'sessions.key', 'files.paths', 'http.url']) expect(r.stderr).toContain(`TODO ${key}:`);
    expect(r.stderr).toContain('/etc/wiki/app.ini'); // the candidate it found
    const written = readFileSync(join(dir, 'mirrorctl.yaml'), 'utf8');
    expect(written).toMatch(/^ {2}# TODO file: /m);
    expect(written).toMatch(/^ {2}# TODO url: .*--http-url/m);
    const validate = await runCli(['validate', '-c', join(dir, 'mirrorctl.yaml')]);
    expect(validate.code).toBe(2);
  });

  it('never overwrites without --force (exit 2); with --force it does', async () => {
    const dir = workDir();
    writeFileSync(join(dir, 'mirrorctl.yaml'), 'site: mine\n');
    const r = await runCli(['init', '--yes', ...siteFlags(dir), ...accept()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/exists; init never overwrites.*--force/);
    expect(readFileSync(join(dir, 'mirrorctl.yaml'), 'utf8')).toBe('site: mine\n');
    const forced = await runCli(['init', '--yes', '--force', ...siteFlags(dir), ...accept()]);
    expect(forced.code).toBe(0);
    expect(readFileSync(join(dir, 'mirrorctl.yaml'), 'utf8')).toMatch(/^site: wiki$/m);
  });

  it('a host that does not answer: exit 3, nothing written', async () => {
    const dir = workDir();
    const flags = siteFlags(dir).map((f) => (f === `web2=${lab.addresses.web2}` ? 'web2=127.0.0.1' : f));
    const r = await runCli(['init', '--yes', ...flags, ...accept()]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/web2 \(127\.0\.0\.1:\d+\).*refused/);
    expect(existsSync(join(dir, 'mirrorctl.yaml'))).toBe(false);
    expect(existsSync(join(dir, 'known_hosts'))).toBe(false);
  });

  it('usage errors are exit 2: no terminal without --yes, a malformed flag, one host only', async () => {
    const dir = workDir();
    expect((await runCli(['init', ...siteFlags(dir)])).stderr).toMatch(/no terminal.*--yes/);
    expect((await runCli(['init', ...siteFlags(dir)])).code).toBe(2);
    expect((await runCli(['init', '--yes', ...siteFlags(dir), '--portable-ip', 'nowhere'])).code).toBe(2);
    const one = await runCli(['init', '--yes', '--site', 'x', '--host', 'web1=10.0.0.1', '-o', join(dir, 'x.yaml')]);
    expect(one.code).toBe(2);
    expect(one.stderr).toMatch(/--host NAME=ADDRESS twice/);
    expect(existsSync(join(dir, 'mirrorctl.yaml'))).toBe(false);
  });
});

describe('mirrorctl init on a terminal', () => {
  it('asks everything, shows each unknown host key and records it on "y"; the file runs switchover --dry-run with exit 0', async () => {
    const dir = workDir();
    const home = workDir(); // ~/.ssh/known_hosts is the default: a fresh home for this test
    const r = await onPty(
      ['init'],
      [
        { expect: /Site name/, send: 'wiki\r' },
        { expect: /Name of the first host/, send: '\r' },
        { expect: /Address of web1/, send: `${lab.addresses.web1}\r` },
        { expect: /Name of the second host/, send: '\r' },
        { expect: /Address of web2/, send: `${lab.addresses.web2}\r` },
        { expect: /SSH login user/, send: `${lab.user}\r` },
        { expect: /SSH port/, send: `${lab.sshPort}\r` },
        { expect: /SSH private key file/, send: `${lab.identityFile}\r` },
        { expect: /Portable IP/, send: `${lab.portableCidr}\r` },
        { expect: new RegExp(`web1 \\(${lab.addresses.web1.replace(/\./g, '\\.')}:${lab.sshPort}\\) is not in .*known_hosts[\\s\\S]*${fingerprint.web1.replace(/[+/]/g, '\\$&')}[\\s\\S]*Trust it`), send: 'y\r' },
        { expect: /web2 \(.*\) is not in [\s\S]*Trust it/, send: 'y\r' },
        { expect: /database password/, send: '\r' },
        { expect: /Which file holds the session storage setting/, send: '\r' },
        { expect: /key in \/etc\/wiki\/app\.ini/, send: '\r' },
        { expect: /keeps sessions in the database/, send: '\r' },
        { expect: /read-only session storage/, send: 'memcache\r' },
        { expect: /re-read the file/, send: '\r' },
        { expect: /Directories of uploaded files/, send: '/srv/wiki/uploads /srv/wiki/avatars\r' },
        { expect: /URL that shows the site is up/, send: `http://${lab.portableIp}/health\r` },
        { expect: /Write mirrorctl\.yaml\?/, send: '\r' },
      ],
      { cwd: dir, env: { HOME: home } },
    );
    expect({ unanswered: r.unanswered, code: r.code, screen: r.screen }).toMatchObject({ unanswered: [], code: 0 });
    expect(r.screen).toMatch(/PostgreSQL 15 primary on port 5433/);
    const doc = parse(readFileSync(join(dir, 'mirrorctl.yaml'), 'utf8'));
    expect(doc).toMatchObject({ site: 'wiki', database: { password_env: 'WIKI_DB_PASSWORD' }, sessions: { file: '/etc/wiki/app.ini', key: 'session.backend', read_only: 'memcache', read_write: 'database' } });
    expect(doc.ssh.known_hosts).toBeUndefined(); // the default, ~/.ssh/known_hosts
    expect(readFileSync(join(home, '.ssh', 'known_hosts'), 'utf8')).toContain(`[${lab.addresses.web1}]:${lab.sshPort} ssh-ed25519 `);
    const plan = await dryRun(dir, { HOME: home });
    expect({ code: plan.code, stderr: plan.stderr }).toMatchObject({ code: 0 });
  });

  it('"n" at a host key: exit 3, nothing written', async () => {
    const dir = workDir();
    const r = await onPty(['init', ...siteFlags(dir)], [{ expect: /Trust it/, send: 'n\r' }], { cwd: dir });
    expect(r.code).toBe(3);
    expect(r.screen).toMatch(/was not accepted/);
    expect(existsSync(join(dir, 'mirrorctl.yaml'))).toBe(false);
    expect(existsSync(join(dir, 'known_hosts'))).toBe(false);
  });

  it('everything given as flags: only asks to write; "n" declines (exit 130), nothing written', async () => {
    const dir = workDir();
    const flags = [...siteFlags(dir), ...accept(), '--sessions-key', 'session.backend', '--sessions-reload', 'kill -HUP "$(cat /run/wiki-app.pid)"'];
    const r = await onPty(['init', ...flags], [{ expect: /Write .*mirrorctl\.yaml\?/, send: 'n\r' }], { cwd: dir, timeoutMs: 60_000 });
    expect({ code: r.code, screen: r.screen }).toMatchObject({ code: 130 });
    expect(existsSync(join(dir, 'mirrorctl.yaml'))).toBe(false);
    expect(existsSync(join(dir, 'known_hosts'))).toBe(false);
  });

  it('Ctrl-C at a question: exit 130, nothing written', async () => {
    const dir = workDir();
    const r = await onPty(['init'], [{ expect: /Site name/, send: '\x03' }], { cwd: dir });
    expect(r.code).toBe(130);
    expect(existsSync(join(dir, 'mirrorctl.yaml'))).toBe(false);
  });
});
