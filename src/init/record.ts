// Writing what init produced: the inventory (never over an existing file without
// --force) and the accepted host keys (appended to their known_hosts file).
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import type { AcceptedKey } from './connect.js';

/** Writes the inventory; `wx` makes "never overwrite" hold even against a file created meanwhile. */
export async function writeInventory(file: string, text: string, force: boolean): Promise<void> {
  try {
    await writeFile(file, text, { flag: force ? 'w' : 'wx', mode: 0o644 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw existing(file);
    throw new ConfigError(`cannot write ${file} (${(error as NodeJS.ErrnoException).code ?? error})`, { hint: 'choose another file with -o FILE', cause: error });
  }
}

export function existing(file: string): ConfigError {
  return new ConfigError(`${file} exists; init never overwrites an inventory`, { hint: 'pass --force to replace it, or -o FILE to write another' });
}

/** Appends each accepted key to its known_hosts file (created with its directory, mode 700/600, when missing). */
export async function recordHostKeys(keys: AcceptedKey[]): Promise<void> {
  for (const key of keys) {
    await mkdir(path.dirname(key.file), { recursive: true, mode: 0o700 });
    const before = await readFile(key.file, 'utf8').catch(() => '');
    const separator = before === '' || before.endsWith('\n') ? '' : '\n';
    await appendFile(key.file, `${separator}${key.line}\n`, { mode: 0o600 });
  }
}
