import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { KeyPath, YamlSource } from './positions.js';

// Problems found in a YAML file, reported as ONE ConfigError:
// `<file>:<line> <key.path>: <problem> (and N more problems)`.
// A problem never quotes a value from the file: it might be a secret.

export interface Problem {
  path: KeyPath;
  problem: string;
  hint?: string;
  /** Defaults to the line of `path`. */
  line?: number | null;
}

// `hosts.web2.address`, `database.hosts[1]`.
export function formatPath(path: KeyPath): string {
  if (path.length === 0) return '(top level)';
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : i === 0 ? key : `.${key}`)).join('');
}

// Throws the first problem (by line) as a ConfigError, counting the others; does nothing without problems.
export function throwProblems(source: YamlSource, problems: readonly Problem[], defaultHint: string): void {
  if (problems.length > 0) throw problemsError(source, problems, defaultHint);
}

// One ConfigError for a non-empty list of problems: the first by line, and how many more.
export function problemsError(source: YamlSource, problems: readonly Problem[], defaultHint: string): ConfigError {
  const located = problems
    .map((p, order) => ({ ...p, order, line: p.line === undefined ? source.lineOf(p.path) : p.line }))
    .sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || a.order - b.order);
  const first = located[0]!;
  const more = located.length - 1;
  const suffix = more > 0 ? ` (and ${more} more problem${more === 1 ? '' : 's'})` : '';
  return new ConfigError(`${source.file}:${first.line ?? 1} ${formatPath(first.path)}: ${first.problem}${suffix}`, {
    hint: first.hint ?? defaultHint,
  });
}

// Turns zod issues into problems worded for the operator, with "did you mean" hints for unknown keys.
export function problemsFromZod(error: z.ZodError, data: unknown, schema: z.ZodType): Problem[] {
  const problems: Problem[] = [];
  for (const issue of error.issues) {
    const path = issue.path.filter((k): k is string | number => typeof k !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(schema, path);
      for (const key of issue.keys) problems.push({ path: [...path, key], problem: 'unknown key', hint: unknownKeyHint(key, known) });
    } else {
      problems.push({ path, problem: describeIssue(issue, valueAt(data, path)) });
    }
  }
  return problems;
}

const TYPE_WORDS: Record<string, string> = {
  number: 'a number',
  int: 'a whole number',
  string: 'a string',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

// What the operator wrote, by kind (never the value itself).
export function kindOf(value: unknown): string {
  if (value === null) return 'nothing (null)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'number' && !Number.isInteger(value)) return 'a fraction';
  return typeof value;
}

function describeIssue(issue: z.core.$ZodIssue, value: unknown): string {
  const custom = !/^(Invalid|Too (small|big)|Unrecognized)/.test(issue.message);
  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined) return 'required';
      return `expected ${TYPE_WORDS[issue.expected] ?? issue.expected}, got ${kindOf(value)}`;
    case 'invalid_union': {
      const branch = issue.errors.find((issues) => issues.some((i) => i.code !== 'invalid_type'));
      const inner = branch?.find((i) => i.code !== 'invalid_type');
      if (inner) return describeIssue(inner, value);
      if (value === undefined) return 'required';
      const expected = issue.errors.map((issues) => issues[0]?.code === 'invalid_type' ? TYPE_WORDS[issues[0].expected] ?? issues[0].expected : 'something else');
      return `expected ${expected.join(' or ')}, got ${kindOf(value)}`;
    }
    case 'too_small':
    case 'too_big':
      return custom ? issue.message : describeBound(issue);
    case 'invalid_value':
      return `must be ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}`;
    case 'invalid_format':
      if (custom) return issue.message;
      return issue.format === 'url' ? 'must be a URL such as http://192.0.2.100/health' : `must be a valid ${issue.format}`;
    case 'invalid_key':
      return issue.issues[0] && !/^Invalid/.test(issue.issues[0].message) ? `bad name: ${issue.issues[0].message}` : 'bad name';
    default:
      return custom ? issue.message : 'invalid value';
  }
}

function describeBound(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig): string {
  const small = issue.code === 'too_small';
  const limit = Number(small ? (issue as z.core.$ZodIssueTooSmall).minimum : (issue as z.core.$ZodIssueTooBig).maximum);
  const op = issue.inclusive ? (small ? 'at least' : 'at most') : small ? 'more than' : 'less than';
  switch (issue.origin) {
    case 'array':
      return `must have ${issue.exact ? 'exactly' : op} ${limit} entr${limit === 1 ? 'y' : 'ies'}`;
    case 'string':
      return limit === 1 && small ? 'must not be empty' : `must be ${issue.exact ? 'exactly' : op} ${limit} characters long`;
    default:
      return `must be ${op} ${limit}`;
  }
}

function valueAt(data: unknown, path: KeyPath): unknown {
  let value = data;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}

type Def = { type: string; shape?: Record<string, z.ZodType>; innerType?: z.ZodType; valueType?: z.ZodType; element?: z.ZodType; in?: z.ZodType };

// The keys an object schema accepts at `path` (through optional, default, record and array wrappers).
function knownKeysAt(schema: z.ZodType, path: KeyPath): string[] {
  let node: z.ZodType | undefined = schema;
  const unwrap = (s: z.ZodType | undefined): z.ZodType | undefined => {
    let current = s;
    for (let i = 0; i < 10 && current; i++) {
      const def = (current as unknown as { _zod: { def: Def } })._zod.def;
      if (def.innerType) current = def.innerType;
      else if (def.type === 'pipe' && def.in) current = def.in;
      else break;
    }
    return current;
  };
  for (const key of path) {
    node = unwrap(node);
    if (!node) return [];
    const def = (node as unknown as { _zod: { def: Def } })._zod.def;
    if (def.type === 'object') node = def.shape?.[String(key)];
    else if (def.type === 'record') node = def.valueType;
    else if (def.type === 'array') node = def.element;
    else return [];
  }
  node = unwrap(node);
  const def = node ? (node as unknown as { _zod: { def: Def } })._zod.def : undefined;
  return def?.type === 'object' ? Object.keys(def.shape ?? {}) : [];
}

function unknownKeyHint(key: string, known: string[]): string {
  if (known.includes(`${key}_env`)) {
    return `secrets never go in the file: use ${key}_env: NAME_OF_AN_ENV_VAR holding it`;
  }
  const guess = closest(key, known);
  if (guess) return `did you mean \`${guess}\`?`;
  return known.length > 0 ? `known keys here: ${known.join(', ')}` : 'remove it';
}

// The candidate nearest to `word` (edit distance ≤ 2, or a prefix), if any.
export function closest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  if (best !== null && bestDistance <= Math.min(2, Math.max(1, Math.floor(word.length / 3)))) return best;
  const prefixed = candidates.find((c) => word.length >= 3 && (c.startsWith(word) || word.startsWith(c)));
  return prefixed ?? null;
}

// Edit distance counting a swap of two neighbouring letters as one edit (`prot` → `port`).
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}
