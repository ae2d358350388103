// files.sync web1 → web2 on the lab's uploads: file lists and contents read on both hosts.
import { readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT_ONLY_UPLOADS, UPLOADS_MISSING_ON_WEB2 } from '../../src/lab/uploads.js';
import { networkSite, type NetworkSite } from './site.js';

const UPLOADS = '/srv/wiki/uploads';
/** The lab's fixed mtime for every upload (src/lab/uploads.ts). */
const LAB_MTIME = new Date('2008-06-24T12:55:00Z');
const EDITED = 'page-01.txt';
const EXTRA = 'only-on-web2.txt';

let site: NetworkSite;
let web1: string;
let web2: string;
let sync: string;
let editedOriginal: string;

beforeAll(async () => {
  site = await networkSite();
  web1 = site.lab.hostPath('web1', UPLOADS);
  web2 = site.lab.hostPath('web2', UPLOADS);
  sync = site.playbook('sync', '  - id: sync-files\n    action: files.sync\n    with: { from: web1, to: web2 }\n    timeout: 60s\n');
  editedOriginal = await readFile(join(web2, EDITED), 'utf8');
});

afterAll(async () => {
  // Back to the lab's own file state: web2 lacks the three files again, nothing extra, nothing edited.
  for (const file of [...UPLOADS_MISSING_ON_WEB2, EXTRA]) await rm(join(web2, file), { force: true });
  await writeFile(join(web2, EDITED), editedOriginal);
  await utimes(join(web2, EDITED), LAB_MTIME, LAB_MTIME);
  for (const dir of ['', '2008', '2008/06', '2008/03']) await utimes(join(web2, dir), LAB_MTIME, LAB_MTIME);
});

/** SSH logins to web1 that came from web2 (web1's sshd logs each one at LogLevel VERBOSE). */
async function loginsFromWeb2(): Promise<number> {
  const log = await readFile(site.lab.sshdLog.web1, 'utf8');
  return log.split('\n').filter((line) => line.includes('Accepted publickey for ') && line.includes(` from ${site.lab.addresses.web2} `)).length;
}

/** Every regular file under `root`, relative, sorted. */
async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .sort();
}

describe('files.sync', () => {
  it('copies what web2 lacks, keeps what is newer on web2, deletes nothing; a re-run is done', async () => {
    const web2Before = await filesUnder(web2);
    for (const file of UPLOADS_MISSING_ON_WEB2) expect(web2Before).not.toContain(file);
    await writeFile(join(web2, EXTRA), 'uploaded to the mirror only\n');
    await writeFile(join(web2, EDITED), 'edited on web2, newer than web1\n');

    const result = await site.run(sync);
    expect(result.code, result.stderr).toBe(0);
    const plan = result.checks('sync-files')[0]!;
    expect(plan).toMatchObject({ phase: 'plan', status: 'ready' });
    expect(plan.summary).toMatch(/^3 files, \d+ B to copy from web1 to web2/);
    expect(result.end('sync-files')).toMatchObject({ outcome: 'changed' });

    // Among them, files only root may read on web1 (the login user is not root: rsync ran under sudo on both ends).
    const rootOnly = UPLOADS_MISSING_ON_WEB2.filter((file) => ROOT_ONLY_UPLOADS.includes(file));
    expect(rootOnly.length).toBeGreaterThan(0);
    for (const file of rootOnly) expect(((await stat(join(web2, file))).mode & 0o777).toString(8)).toBe('600');
    for (const file of UPLOADS_MISSING_ON_WEB2) {
      expect(await readFile(join(web2, file))).toEqual(await readFile(join(web1, file)));
      expect((await stat(join(web2, file))).mtimeMs).toBe((await stat(join(web1, file))).mtimeMs);
    }
    expect(await readFile(join(web2, EDITED), 'utf8')).toBe('edited on web2, newer than web1\n');
    expect(await readFile(join(web2, EXTRA), 'utf8')).toBe('uploaded to the mirror only\n');
    expect(await filesUnder(web2)).toEqual([...(await filesUnder(web1)), EXTRA].sort());

    const again = await site.run(sync);
    expect(again.code, again.stderr).toBe(0);
    expect(again.checks('sync-files').map((c) => c.status)).toEqual(['done', 'done']);
    expect(again.end('sync-files')).toMatchObject({ outcome: 'unchanged' });
  });

  it('both paths over one SSH connection from web2: a dry run closes its own; a run keeps one that its plan and steps share', async () => {
    // No connection left from an earlier run (a run's stays 30 s after its last use).
    await site.lab.hostExec('web2', 'for s in /run/mirrorctl-rsync/*; do [ -S "$s" ] && ssh -o ControlPath="$s" -O exit mirrorctl; done; rm -rf /run/mirrorctl-rsync');
    const first = await loginsFromWeb2();
    const dry = await site.run(sync, undefined, ['--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(await loginsFromWeb2()).toBe(first + 1);
    // Nothing of it is left on web2: no kept connection, no master process.
    const left = await site.lab.hostExec('web2', "ls -A /run/mirrorctl-rsync 2>/dev/null; pgrep -f -- '-o ControlPath=/tm[p]/' || true");
    expect(left.stdout).toBe('');

    const run = await site.run(sync);
    expect(run.code, run.stderr).toBe(0);
    expect(run.checks('sync-files').map((c) => c.status)).toEqual(['done', 'done']);
    // The plan's dry run made the connection; the step's re-check went over it.
    expect(await loginsFromWeb2()).toBe(first + 2);
    expect((await site.lab.hostExec('web2', 'ls -A /run/mirrorctl-rsync')).stdout.trim().split('\n')).toHaveLength(1);
    // The next run, within 30 s, makes none.
    const again = await site.run(sync);
    expect(again.code, again.stderr).toBe(0);
    expect(await loginsFromWeb2()).toBe(first + 2);
  });

  it('is blocked, naming the path, when a path is missing on the sender', async () => {
    const playbook = site.playbook(
      'sync-missing',
      '  - id: sync-files\n    action: files.sync\n    with: { from: web1, to: web2, paths: [/srv/wiki/uploads, /srv/wiki/no-such-dir] }\n',
    );
    const result = await site.run(playbook);
    expect(result.code, result.stderr).toBe(3);
    expect(result.checks('sync-files')[0]).toMatchObject({ status: 'blocked', summary: '/srv/wiki/no-such-dir is missing on web1' });
  });
});
