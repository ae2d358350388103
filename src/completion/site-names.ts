// Host and playbook names for completion, read leniently: a missing or broken
// inventory completes nothing rather than printing an error into the shell.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { SiteNames } from './complete.js';

export const siteNames: SiteNames = {
  async hosts(inventoryFile) {
    try {
      const { parse } = await import('yaml');
      const doc = parse(await readFile(inventoryFile, 'utf8')) as { hosts?: unknown } | null;
      return doc && typeof doc.hosts === 'object' && doc.hosts !== null ? Object.keys(doc.hosts) : [];
    } catch {
      return [];
    }
  },
  async playbooks(inventoryFile) {
    const { listPlaybooks } = await import('../playbook/locate.js');
    return (await listPlaybooks(path.dirname(path.resolve(inventoryFile))).catch(() => [])).map((p) => p.name);
  },
};
