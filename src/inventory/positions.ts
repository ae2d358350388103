import { readFile } from 'node:fs/promises';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { ConfigError } from '../errors.js';
import { aliasError, MAX_ALIAS_COUNT } from './yaml-aliases.js';

// Reading a YAML file (inventory or playbook) while keeping where each key is,
// so that every error can name the file, the key path and the line.

export type KeyPath = ReadonlyArray<string | number>;

/** A parsed YAML file: its plain data and the line of any key path in it. */
export interface YamlSource {
  file: string;
  data: unknown;
  /** Line of the key at `path`, else of its deepest ancestor that exists; null only for an empty file. */
  lineOf(path: KeyPath): number | null;
}

interface ReadOptions {
  /** What the file is, in the operator's words: "inventory", "playbook". */
  what: string;
  /** What to do when the file does not exist. */
  missingHint: string;
}

const READ_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a parent is not a directory',
};

// Reads and parses a YAML file; an unreadable file or a syntax error is a ConfigError.
export async function readYamlSource(file: string, options: ReadOptions): Promise<YamlSource> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const reason = READ_ERRORS[code] ?? (error as Error).message;
    throw new ConfigError(`cannot read ${options.what} ${file}: ${reason}`, {
      hint: code === 'ENOENT' ? options.missingHint : `check the file's permissions`,
      cause: error,
    });
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const syntaxError = doc.errors[0];
  if (syntaxError) {
    const line = lineCounter.linePos(syntaxError.pos[0]).line;
    throw new ConfigError(`${file}:${line} ${oneLine(syntaxError.message)}`, {
      hint: `fix the YAML syntax (indent with spaces, never tabs)`,
      cause: syntaxError,
    });
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    if (!(error instanceof ReferenceError)) throw error;
    throw aliasError(file, doc, lineCounter, error);
  }
  return { file, data, lineOf: (path) => lineOfPath(doc.contents, path, lineCounter) };
}

function oneLine(message: string): string {
  const first = message.split('\n')[0] ?? message;
  return first.replace(/\s+at line \d+, column \d+:?\s*$/, '').replace(/:$/, '').trim();
}

// Walks the YAML node tree along `path`; the line of the last node found.
function lineOfPath(root: Node | null, path: KeyPath, lines: LineCounter): number | null {
  const lineAt = (offset: number | undefined) => (offset === undefined ? null : lines.linePos(offset).line);
  let node: unknown = root;
  let line = lineAt((root as Node | null)?.range?.[0]);
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(key));
      if (!pair) break;
      line = lineAt((pair.key as Node).range?.[0]) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof key === 'number') {
      const item = node.items[key] as Node | undefined;
      if (!item) break;
      line = lineAt(item.range?.[0]) ?? line;
      node = item;
    } else {
      break;
    }
  }
  return line;
}
