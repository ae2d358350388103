// `key = value` files such as the app's sessions file: find one key, replace only its value.

export type KeyLookup =
  | { found: 'one'; index: number; value: string }
  | { found: 'none' }
  | { found: 'many'; lines: number[] };

const LINE = /^(\s*)([^=]*?)(\s*=\s*)(.*?)(\s+[#;].*)?$/;

/** Finds the uncommented line whose key (text before `=`, trimmed) equals `key`. */
export function findKey(text: string, key: string): KeyLookup {
  const hits: number[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    const trimmed = line.trimStart();
    if (trimmed.startsWith('#') || trimmed.startsWith(';')) return;
    const eq = line.indexOf('=');
    if (eq >= 0 && line.slice(0, eq).trim() === key) hits.push(i);
  });
  if (hits.length === 0) return { found: 'none' };
  if (hits.length > 1) return { found: 'many', lines: hits.map((i) => i + 1) };
  const match = LINE.exec(lines[hits[0]!]!)!;
  return { found: 'one', index: hits[0]!, value: match[4]!.trim() };
}

/** The same text with only that line's value replaced (spacing and trailing comment kept). */
export function replaceValue(text: string, index: number, value: string): string {
  const lines = text.split('\n');
  const match = LINE.exec(lines[index]!)!;
  lines[index] = `${match[1]}${match[2]}${match[3]}${value}${match[5] ?? ''}`;
  return lines.join('\n');
}
