import { visit, type Alias, type Document, type LineCounter } from 'yaml';
import { ConfigError } from '../errors.js';

// YAML aliases (`*name`) that cannot be expanded: an alias bomb ("billion laughs"),
// or an alias to no anchor. The yaml package throws a ReferenceError for both.

/** How many alias expansions a file may make (the yaml package's `maxAliasCount`). */
export const MAX_ALIAS_COUNT = 100;

// The ConfigError for a ReferenceError thrown while a document's aliases were expanded.
export function aliasError(file: string, doc: Document, lines: LineCounter, error: ReferenceError): ConfigError {
  const aliases: Alias[] = [];
  visit(doc, { Alias: (_key, node) => void aliases.push(node) });
  const lineOf = (alias: Alias | undefined) => (alias?.range ? lines.linePos(alias.range[0]).line : 1);
  if (/^Unresolved alias/.test(error.message)) {
    const unresolved = aliases.find((alias) => alias.resolve(doc) === undefined);
    return new ConfigError(`${file}:${lineOf(unresolved)} alias *${unresolved?.source ?? '?'} names no anchor defined before it`, {
      hint: `define &${unresolved?.source ?? 'NAME'} before using *${unresolved?.source ?? 'NAME'}, or write the value out`,
      cause: error,
    });
  }
  return new ConfigError(`${file}:${lineOf(aliases[0])} too many YAML aliases: expanding them would build a huge document (an alias bomb)`, {
    hint: `write the values out instead of nesting *aliases (at most ${MAX_ALIAS_COUNT} expansions), and check where this file came from`,
    cause: error,
  });
}
