import { access, chmod, mkdir, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AVATARS_DIR, UPLOADS_DIR, hostPath, type LabNames } from './paths.js';

// The site's uploaded files: web1 has them all; the file mirror "did not fully copy"
// three of them to web2, so files.sync has real work to do. Some are root-only.

const UPLOADS = [
  ...Array.from({ length: 14 }, (_, i) => `page-${String(i + 1).padStart(2, '0')}.txt`),
  'logo.svg',
  'handbook.html',
  'notes.md',
  '2008/06/mirror-server.txt',
  '2008/06/lighttpd.conf.txt',
  '2008/03/ubuntu-install.txt',
];

/** Uploads only root may read (mode 600), as a real site has: files.sync must copy them like any other. */
export const ROOT_ONLY_UPLOADS = ['handbook.html', '2008/06/mirror-server.txt', 'notes.md'];

/** Files web2 lacks (relative to the uploads directory). */
export const UPLOADS_MISSING_ON_WEB2 = ['page-07.txt', 'handbook.html', '2008/06/mirror-server.txt'];

const AVATARS = ['alice.txt', 'bob.txt', 'carol.txt'];

/** A fixed mtime, so the two copies of a file compare equal for rsync. */
const MTIME = new Date('2008-06-24T12:55:00Z');

async function put(path: string, content: string, mode = 0o644): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content, { mode });
  await chmod(path, mode);
  await utimes(path, MTIME, MTIME);
}

/** Writes the uploads and avatars on both hosts, once (when web1 has no uploads directory yet). */
export async function ensureUploads(names: LabNames): Promise<void> {
  const web1Uploads = hostPath(names, 'web1', UPLOADS_DIR);
  if (await access(web1Uploads).then(() => true, () => false)) return;
  const web2Uploads = hostPath(names, 'web2', UPLOADS_DIR);
  for (const file of UPLOADS) {
    const content = `uploaded file ${file} of the wiki (mirrorctl lab)\n`;
    const mode = ROOT_ONLY_UPLOADS.includes(file) ? 0o600 : 0o644;
    await put(join(web1Uploads, file), content, mode);
    if (!UPLOADS_MISSING_ON_WEB2.includes(file)) await put(join(web2Uploads, file), content, mode);
  }
  await mkdir(web2Uploads, { recursive: true });
  for (const host of ['web1', 'web2'] as const) {
    for (const file of AVATARS) await put(join(hostPath(names, host, AVATARS_DIR), file), `avatar of ${file.replace('.txt', '')}\n`);
    // Directories too, so that the only differences are the three missing files.
    for (const dir of ['', '2008', '2008/06', '2008/03']) await utimes(join(hostPath(names, host, UPLOADS_DIR), dir), MTIME, MTIME);
    await utimes(hostPath(names, host, AVATARS_DIR), MTIME, MTIME);
  }
}
