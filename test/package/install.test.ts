// The package as users get it: `npm pack` of a clean copy of the sources (its
// prepack builds dist/ and the man page), `npm install -g` of the tarball into an
// empty prefix (production dependencies only), then from there: --help, man,
// `lab up`, `init`, dry runs and `lab down`. The lab is built in its own directory.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LAB = process.env.MIRRORCTL_TEST_LAB_PACKAGE ?? '/tmp/mirrorctl-lab-package';
let work: string;
let prefix: string;
let tarball: string;

function sh(command: string, args: string[], options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd: options.cwd, encoding: 'utf8', timeout: options.timeoutMs ?? 300_000, env: { ...process.env, ...options.env } });
}

/** The installed `mirrorctl`, with a PATH that has node and the system's tools but no checkout. */
function installed(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): SpawnSyncReturns<string> {
  const env = { PATH: `${prefix}/bin:${dirname(process.execPath)}:/usr/sbin:/usr/bin:/sbin:/bin`, HOME: process.env.HOME ?? '/root', NO_COLOR: '1', ...options.env };
  return spawnSync(join(prefix, 'bin', 'mirrorctl'), args, { cwd: options.cwd ?? tmpdir(), encoding: 'utf8', timeout: 600_000, env });
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'mirrorctl-package-'));
  // A clean copy: no dist/ from this checkout, the dependencies it builds with linked.
  const source = join(work, 'source');
  for (const entry of ['bin', 'src', 'playbooks', 'man', 'package.json', 'package-lock.json', 'tsconfig.json', 'README.md']) {
    cpSync(join(ROOT, entry), join(source, entry), { recursive: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(source, 'node_modules'));
  const pack = sh('npm', ['pack', '--pack-destination', work], { cwd: source });
  expect({ status: pack.status, stderr: pack.stderr.slice(-2000) }).toMatchObject({ status: 0 });
  tarball = join(work, readdirSync(work).find((f) => f.endsWith('.tgz'))!);
  prefix = join(work, 'prefix');
  const install = sh('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', tarball]);
  expect({ status: install.status, stderr: install.stderr.slice(-2000) }).toMatchObject({ status: 0 });
}, 600_000);

afterAll(() => {
  if (prefix && existsSync(join(prefix, 'bin', 'mirrorctl'))) installed(['lab', 'down', '--dir', LAB]);
  if (work) rmSync(work, { recursive: true, force: true });
}, 300_000);

describe('npm pack, then npm install -g into an empty prefix', () => {
  it('ships what runs it (dist, bin, playbooks, the man page) and installs only production dependencies', () => {
    const list = sh('tar', ['-tzf', tarball]).stdout.split('\n');
    expect(list).toEqual(expect.arrayContaining(['package/bin/mirrorctl', 'package/dist/cli.js', 'package/playbooks/switchover.yaml', 'package/man/mirrorctl.1', 'package/package.json']));
    expect(list.filter((f) => f.startsWith('package/src/') || f.startsWith('package/test/') || f === 'package/bin/prepare')).toEqual([]);
    // Our development dependencies are not installed (vega brings @types/estree and @types/geojson of its own).
    const modules = join(prefix, 'lib', 'node_modules', 'mirrorctl', 'node_modules');
    for (const dev of ['vitest', 'typescript', 'fast-xml-parser', '@types/node', '@types/pg', '@types/ssh2']) expect(existsSync(join(modules, dev))).toBe(false);
    expect(existsSync(join(modules, 'ssh2'))).toBe(true);
    expect(existsSync(join(prefix, 'share', 'man', 'man1', 'mirrorctl.1'))).toBe(true);
  });

  it('mirrorctl --help and --version; man shows the page from the prefix', () => {
    const helpText = installed(['--help']);
    expect(helpText.status).toBe(0);
    expect(helpText.stdout).toMatch(/switchover/);
    expect(helpText.stdout).toMatch(/init/);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(installed(['--version']).stdout.trim()).toBe(pkg.version);
    const man = sh('man', ['-M', join(prefix, 'share', 'man'), 'mirrorctl'], { env: { MANPAGER: 'cat', PAGER: 'cat', MANWIDTH: '100' } });
    expect({ status: man.status, stderr: man.stderr }).toMatchObject({ status: 0 });
    expect(man.stdout).toMatch(/mirrorctl - move a site/);
  });

  it('lab up, a dry run, init writing an inventory that dry-runs too, lab down', () => {
    const up = installed(['lab', 'up', '--dir', LAB]);
    expect({ status: up.status, stderr: up.stderr.slice(-2000) }).toMatchObject({ status: 0 });
    const env = { WIKI_DB_PASSWORD: readFileSync(join(LAB, 'db-password'), 'utf8').trim() };
    const state = join(LAB, 'state');
    const dry = installed(['switchover', '--dry-run', '--state-dir', state], { cwd: LAB, env });
    expect({ status: dry.status, stdout: dry.stdout, stderr: dry.stderr }).toMatchObject({ status: 0 });

    // The newcomer's path, from the installed package: init from flags and what the hosts say.
    const lab = parse(readFileSync(join(LAB, 'mirrorctl.yaml'), 'utf8'));
    const out = join(mkdtempSync(join(work, 'init-')), 'mirrorctl.yaml');
    const init = installed(
      [
        'init', '--yes', '-o', out, '--site', 'wiki',
        '--host', `web1=${lab.hosts.web1.address}`, '--host', `web2=${lab.hosts.web2.address}`,
        '--ssh-user', lab.ssh.user, '--ssh-port', String(lab.ssh.port), '--identity-file', lab.ssh.identity_file, '--known-hosts', lab.ssh.known_hosts,
        '--portable-ip', lab.portable_ip.address, '--password-env', 'WIKI_DB_PASSWORD',
        '--sessions-file', lab.sessions.file, '--read-only', lab.sessions.read_only, '--read-write', lab.sessions.read_write,
        ...lab.files.paths.flatMap((p: string) => ['--files', p]), '--http-url', lab.http.url,
      ],
      { env },
    );
    expect({ status: init.status, stderr: init.stderr }).toMatchObject({ status: 0 });
    const initDry = installed(['switchover', '--dry-run', '-c', out, '--state-dir', state], { env });
    expect({ status: initDry.status, stdout: initDry.stdout, stderr: initDry.stderr }).toMatchObject({ status: 0 });

    const down = installed(['lab', 'down', '--dir', LAB]);
    expect({ status: down.status, stderr: down.stderr.slice(-2000) }).toMatchObject({ status: 0 });
    expect(existsSync(join(LAB, 'mirrorctl.yaml'))).toBe(false);
  });
});
