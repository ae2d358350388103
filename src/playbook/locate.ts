import { access, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { ConfigError } from '../errors.js';
import { printable } from '../reporters/printable.js';

// Finding playbooks: a path, else a name in the inventory's playbooks/, else in the bundled playbooks/.

/** The playbooks shipped with this package (dist/playbook/locate.js → ../../playbooks). */
export const BUNDLED_PLAYBOOKS_DIR = fileURLToPath(new URL('../../playbooks/', import.meta.url));

const EXTENSIONS = ['.yaml', '.yml'];

function searchDirs(inventoryDir: string | null): string[] {
  return inventoryDir ? [path.join(inventoryDir, 'playbooks'), BUNDLED_PLAYBOOKS_DIR] : [BUNDLED_PLAYBOOKS_DIR];
}

// True when PLAYBOOK names a file rather than a playbook name.
export function isPlaybookPath(nameOrPath: string): boolean {
  return nameOrPath.includes('/') || /\.ya?ml$/i.test(nameOrPath);
}

// The file of a playbook given by path or name; an unknown name is a ConfigError listing the available ones.
export async function locatePlaybook(nameOrPath: string, inventoryDir: string | null): Promise<string> {
  if (isPlaybookPath(nameOrPath)) return nameOrPath;
  for (const dir of searchDirs(inventoryDir)) {
    for (const extension of EXTENSIONS) {
      const file = path.join(dir, `${nameOrPath}${extension}`);
      if (await exists(file)) return file;
    }
  }
  const available = (await listPlaybooks(inventoryDir)).map((p) => p.name);
  const where = inventoryDir ? `${path.join(inventoryDir, 'playbooks')} or the bundled playbooks` : 'the bundled playbooks';
  throw new ConfigError(
    `unknown playbook "${nameOrPath}": not found in ${where}; available: ${available.length > 0 ? available.join(', ') : 'none'}`,
    { hint: 'run `mirrorctl playbooks` to list them, or give a path to a .yaml file' },
  );
}

// Every playbook by name with its summary; the inventory's own shadow bundled ones with the same name.
export async function listPlaybooks(inventoryDir: string | null): Promise<Array<{ name: string; summary: string; file: string }>> {
  const found = new Map<string, { name: string; summary: string; file: string }>();
  for (const dir of searchDirs(inventoryDir)) {
    const entries = await readdir(dir).catch(() => [] as string[]);
    for (const entry of entries.sort()) {
      const extension = EXTENSIONS.find((e) => entry.endsWith(e));
      if (!extension) continue;
      const name = entry.slice(0, -extension.length);
      if (found.has(name)) continue;
      const file = path.join(dir, entry);
      found.set(name, { name, summary: await summaryOf(file), file });
    }
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}

async function summaryOf(file: string): Promise<string> {
  try {
    const doc: unknown = parse(await readFile(file, 'utf8'));
    const summary = doc && typeof doc === 'object' ? (doc as { summary?: unknown }).summary : undefined;
    // Printed on one line as it is: control characters from the file are shown escaped.
    return typeof summary === 'string' ? printable(summary) : '';
  } catch {
    return '(cannot be read: run `mirrorctl validate` on it)';
  }
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}
