import { chownSync, chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { events, localSite, runCli } from '../helpers/cli.js';

const PLAY = (mode: string) => `name: mode\nsummary: switch session mode\nsteps:\n  - id: switch\n    action: sessions.mode\n    host: local\n    with: { mode: ${mode} }\n`;

describe('sessions.mode (real files, real process)', () => {
  it('keeps owner, mode and every other line byte-identical', async () => {
    const site = localSite();
    const text = '; comment = not this\n# session.backend = commented\n  session.backend\t=  database\t# trailing\nsession.backend.extra = x\n\nlast = line';
    writeFileSync(site.appIni, text);
    chownSync(site.appIni, 65534, 65534);
    chmodSync(site.appIni, 0o640);
    site.playbook('ro', PLAY('read-only'));
    const r = await runCli(['run', 'ro', '-c', site.inventory, '--state-dir', site.stateDir, '--yes', '--json']);
    expect(r.code).toBe(0);
    expect(readFileSync(site.appIni, 'utf8')).toBe(text.replace('=  database\t#', '=  memcache\t#'));
    const st = statSync(site.appIni);
    expect([st.uid, st.gid, st.mode & 0o777]).toEqual([65534, 65534, 0o640]);
    const ends = events(r.stdout).filter((e) => e.event === 'step.end');
    expect(ends[0]).toMatchObject({ step: 'switch', outcome: 'changed' });
  });

  it('a missing or duplicated key blocks (exit 3) without touching the file', async () => {
    const site = localSite();
    site.playbook('ro', PLAY('read-only'));
    for (const text of ['other = 1\n', 'session.backend = database\nsession.backend = database\n']) {
      writeFileSync(site.appIni, text);
      const r = await runCli(['run', 'ro', '-c', site.inventory, '--state-dir', site.stateDir, '--yes']);
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/session\.backend/);
      expect(readFileSync(site.appIni, 'utf8')).toBe(text);
    }
  });

  it('is atomic: a reader polling the file never sees a half-written one', async () => {
    const site = localSite();
    const padding = Array.from({ length: 2000 }, (_, i) => `key${i} = ${'v'.repeat(40)}`).join('\n');
    writeFileSync(site.appIni, `session.backend = database\n${padding}\n`);
    const sizes = new Set([`session.backend = database\n${padding}\n`.length, `session.backend = memcache\n${padding}\n`.length]);
    site.playbook('ro', PLAY('read-only'));
    site.playbook('rw', PLAY('read-write'));
    let torn = 0;
    let reads = 0;
    let stop = false;
    const reader = (async () => {
      while (!stop) {
        const content = readFileSync(site.appIni, 'utf8');
        reads += 1;
        if (!sizes.has(content.length) || !content.endsWith('\n')) torn += 1;
        await new Promise((r) => setImmediate(r));
      }
    })();
    for (let i = 0; i < 3; i += 1) {
      expect((await runCli(['run', 'ro', '-c', site.inventory, '--state-dir', site.stateDir, '--yes'])).code).toBe(0);
      expect((await runCli(['run', 'rw', '-c', site.inventory, '--state-dir', site.stateDir, '--yes'])).code).toBe(0);
    }
    stop = true;
    await reader;
    expect(reads).toBeGreaterThan(10);
    expect(torn).toBe(0);
  });

  it('a failing reload puts the previous file back and fails the step (exit 1); fixed, the re-run completes', async () => {
    const flag = `/tmp/mirrorctl-reload-ok-${process.pid}`;
    const site = localSite(`  reload: test -f ${flag}\n`);
    const before = readFileSync(site.appIni, 'utf8');
    site.playbook('ro', PLAY('read-only'));
    const r = await runCli(['run', 'ro', '-c', site.inventory, '--state-dir', site.stateDir, '--yes', '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/reload/);
    expect(readFileSync(site.appIni, 'utf8')).toBe(before);
    writeFileSync(flag, '');
    try {
      const again = await runCli(['run', 'ro', '-c', site.inventory, '--state-dir', site.stateDir, '--yes']);
      expect(again.code).toBe(0);
      expect(readFileSync(site.appIni, 'utf8')).toMatch(/session.backend {3}= {2}memcache/);
    } finally {
      (await import('node:fs')).rmSync(flag, { force: true });
    }
  });
});

describe('the rewrite script (a real shell, a real file)', () => {
  it('new content that arrives cut off (a connection lost mid-stream) replaces nothing (exit 5)', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { spawnSync } = await import('node:child_process');
    const { rewriteAndReload, sha256 } = await import('../../src/site/remote-file.js');
    const dir = mkdtempSync(join(tmpdir(), 'mirrorctl-rewrite-'));
    const file = join(dir, 'app.ini');
    const before = 'site.host = web2\nsession.backend = memcache\nmemcached.server = 10.0.0.1:11211\n';
    writeFileSync(file, before);
    const after = before.replace('memcache\n', 'database\n');
    const script = rewriteAndReload(file, sha256(before), sha256(after), undefined);
    const cut = spawnSync('/bin/sh', ['-c', script], { input: after.slice(0, 20), encoding: 'utf8' });
    expect(cut.status).toBe(5);
    expect(cut.stderr).toMatch(/arrived incomplete; nothing was replaced/);
    expect(readFileSync(file, 'utf8')).toBe(before);
    const whole = spawnSync('/bin/sh', ['-c', script], { input: after, encoding: 'utf8' });
    expect(whole.status, whole.stderr).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(after);
  });
});
