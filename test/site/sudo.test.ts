import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSudoRule } from '../../src/lab/login-user.js';
import { labNames } from '../../src/lab/paths.js';
import { events } from '../helpers/cli.js';
import { ensureLab, type TestLab } from '../helpers/lab.js';
import { labCli, snapshot } from '../helpers/site-state.js';

// The lab refuses root logins: mirrorctl logs in as an unprivileged user and reaches
// root only through `sudo -n`. These tests fail if sudo were not used, or if a sudo
// that asks for a password were taken for anything but an error naming the host.
let lab: TestLab;

function inventoryCopy(name: string, edit: (yaml: string) => string): string {
  const file = `${lab.dir}/${name}.yaml`;
  writeFileSync(file, edit(readFileSync(lab.inventory, 'utf8')));
  return file;
}

beforeAll(async () => {
  lab = await ensureLab();
});

afterAll(async () => {
  await writeSudoRule(labNames(lab.dir), 'NOPASSWD: ALL');
});

describe('sudo on a site without root logins', () => {
  it('the login user is not root; without sudo the dry run cannot read the root-only sessions file', async () => {
    const who = await lab.ssh('web1', 'id -u');
    expect(who.stdout.trim()).not.toBe('0');
    const noSudo = inventoryCopy('no-sudo', (y) => y.replace('  sudo: true', '  sudo: false'));
    const before = await snapshot(lab);
    const r = await labCli(lab, ['switchover', '--dry-run', '--json'], noSudo);
    expect(r.code, r.stderr).toBe(3);
    const fence = events(r.stdout).find((e) => e.event === 'step.check' && e.step === 'fence-sessions')!;
    expect(fence.status).toBe('blocked');
    expect(fence.summary).toMatch(/Permission denied|cannot read/i);
    expect(await snapshot(lab)).toEqual(before);
  });

  it('a sudo that would ask for a password is an error naming the host, in status and in a dry run', async () => {
    const before = await snapshot(lab);
    await writeSudoRule(labNames(lab.dir), 'ALL');
    try {
      const status = await labCli(lab, ['status', '--json']);
      expect(status.code).toBe(0);
      const parsed = JSON.parse(status.stdout);
      const warnings: string[] = parsed.warnings;
      for (const host of ['web1', 'web2']) {
        expect(warnings.some((w) => w.startsWith(`${host} (`) && w.includes('sudo -n refused') && w.includes('a password is required'))).toBe(true);
      }
      const dry = await labCli(lab, ['switchover', '--dry-run', '--json']);
      expect(dry.code, dry.stderr).toBe(3);
      expect(dry.stderr).toMatch(/web[12] \([^)]*\): sudo -n refused .* NOPASSWD sudo on web[12]/);
      expect(dry.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await writeSudoRule(labNames(lab.dir), 'NOPASSWD: ALL');
    }
    expect(await snapshot(lab)).toEqual(before);
  });
});
