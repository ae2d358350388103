// Reads an OpenSSH client config file into one ordered list of directives, with
// every `Include` expanded in place, as ssh(1) reads it. The syntax (quoting, `=`,
// comments, value lists) is parsed by the `ssh-config` package; what a directive
// means for a given host is decided in ssh-config.ts.
import { readFile, readdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { ConfigError } from '../errors.js';

/** OpenSSH's READCONF_MAX_DEPTH: Include nested deeper than this is an error. */
const MAX_INCLUDE_DEPTH = 16;

/** A `Host` or `Match` line: the block that the directives after it (in the same file) belong to. */
export interface ConfigBlock {
  kind: 'host' | 'match';
  /** Host: the patterns; Match: the words after `Match`. */
  words: string[];
  file: string;
  line: number;
}

/** One directive, with every block that guards it (its own, and those of the Include lines that brought its file in). */
export interface ConfigDirective {
  /** Lower case, as OpenSSH compares keywords. */
  keyword: string;
  values: string[];
  blocks: ConfigBlock[];
  file: string;
  line: number;
}

/** A config file read with its includes: the directives in reading order, and the files read. */
export interface SshConfigFile {
  file: string;
  directives: ConfigDirective[];
  files: string[];
}

export interface ReadOptions {
  /** Where a relative `Include` path is looked up: ~/.ssh, as for a user's config. */
  sshDir?: string;
}

type ParsedLine = { type: number; param?: string; value?: string | Array<{ val: string }>; config?: ParsedLine[]; before?: string; after?: string; content?: string };

/** Reads `file` (null when it does not exist) with its includes; a syntax error is a ConfigError naming the file. */
export async function readSshConfigFile(file: string, options: ReadOptions = {}): Promise<SshConfigFile | null> {
  const text = await readText(file);
  if (text === null) return null;
  const result: SshConfigFile = { file, directives: [], files: [] };
  await readInto(result, file, text, [], 0, options.sshDir ?? path.join(homedir(), '.ssh'));
  return result;
}

async function readText(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    throw new ConfigError(`cannot read the OpenSSH config ${file} (${code ?? (error as Error).message})`, { hint: 'fix its permissions or ssh.config_file in the inventory', cause: error });
  }
}

/** Appends the directives of one file (already read) to `result`, each guarded by `outer` and its own block. */
async function readInto(result: SshConfigFile, file: string, text: string, outer: ConfigBlock[], depth: number, sshDir: string): Promise<void> {
  result.files.push(file);
  const { default: SSHConfig } = await import('ssh-config');
  let parsed: ParsedLine[];
  try {
    parsed = SSHConfig.parse(text) as unknown as ParsedLine[];
  } catch (error) {
    throw new ConfigError(`cannot parse the OpenSSH config ${file}: ${(error as Error).message}`, { hint: 'check it with `ssh -G -F FILE HOST`', cause: error });
  }
  const lines = new LineCounter(text);
  for (const entry of parsed) {
    const line = lines.advance(entry);
    if (entry.type !== 1 || !entry.param) continue;
    const keyword = entry.param.toLowerCase();
    if (keyword === 'host' || keyword === 'match') {
      const block: ConfigBlock = { kind: keyword, words: valuesOf(entry.value), file, line };
      for (const inner of entry.config ?? []) {
        const innerLine = lines.advance(inner);
        if (inner.type === 1 && inner.param) await directive(result, inner, [...outer, block], file, innerLine, depth, sshDir);
      }
      continue;
    }
    await directive(result, entry, outer, file, line, depth, sshDir);
  }
}

async function directive(result: SshConfigFile, entry: ParsedLine, blocks: ConfigBlock[], file: string, line: number, depth: number, sshDir: string): Promise<void> {
  const keyword = entry.param!.toLowerCase();
  const values = valuesOf(entry.value);
  if (keyword !== 'include') {
    result.directives.push({ keyword, values, blocks, file, line });
    return;
  }
  if (depth + 1 > MAX_INCLUDE_DEPTH) {
    throw new ConfigError(`${file} line ${line}: Include nested more than ${MAX_INCLUDE_DEPTH} deep (a loop?)`, { hint: 'fix the Include lines of the OpenSSH config' });
  }
  for (const pattern of values) {
    for (const included of await expandInclude(pattern, sshDir)) {
      const text = await readText(included);
      if (text !== null) await readInto(result, included, text, blocks, depth + 1, sshDir);
    }
  }
}

function valuesOf(value: ParsedLine['value']): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value.map((v) => v.val) : [value];
}

/** An Include argument: `~` expanded, relative to ~/.ssh, globbed and sorted (no match: nothing). */
export async function expandInclude(pattern: string, sshDir: string): Promise<string[]> {
  let full = pattern;
  if (full === '~' || full.startsWith('~/')) full = path.join(homedir(), full.slice(1));
  else if (!path.isAbsolute(full)) full = path.join(sshDir, full);
  return glob(full);
}

/** glob(3) for `*`, `?` and `[...]` in any path segment; hidden entries only for patterns starting with `.`. */
async function glob(pattern: string): Promise<string[]> {
  const segments = pattern.split('/').filter((s, i) => s !== '' || i === 0);
  let found = [segments[0] === '' ? '/' : segments[0]!];
  for (const segment of segments.slice(1)) {
    if (!/[*?[]/.test(segment)) {
      found = found.map((dir) => path.join(dir, segment));
      continue;
    }
    const matcher = globSegment(segment);
    const next: string[] = [];
    for (const dir of found) {
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const name of names.sort()) {
        if (name.startsWith('.') && !segment.startsWith('.')) continue;
        if (matcher.test(name)) next.push(path.join(dir, name));
      }
    }
    found = next;
  }
  return found;
}

function globSegment(segment: string): RegExp {
  let source = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close < 0) source += '\\[';
      else {
        const body = segment.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\');
        source += `[${body}]`;
        i = close;
      }
    } else source += c.replace(/[.+^${}()|\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/**
 * Line numbers of the parsed entries, for messages: the parser keeps each line's
 * leading and trailing text (`before`, `after`), so the newlines before an entry
 * are counted as the entries go by.
 */
class LineCounter {
  private line = 1;
  constructor(readonly text: string) {}
  advance(entry: ParsedLine): number {
    this.line += newlines(entry.before);
    const at = this.line;
    this.line += newlines(entry.after);
    return at;
  }
}

function newlines(text: string | undefined): number {
  return text ? (text.match(/\n/g) ?? []).length : 0;
}
