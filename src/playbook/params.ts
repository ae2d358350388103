import { ConfigError } from '../errors.js';
import type { Problem } from '../inventory/problems.js';
import type { PlaybookDocument } from './schema.js';

// Playbook parameters: declared defaults ← values filled by the command ← `--set`.

export type ParamValue = string | number | boolean | null;

interface ParamSources {
  /** Values the command filled (failover: to, from, mode); undefined means "not known". */
  filled?: Record<string, string | number | boolean | undefined>;
  /** `--set NAME=VALUE`, always strings. */
  set?: Record<string, string>;
  /** Parameters used as host names (for a "--set to=HOST" hint). */
  hostParams?: ReadonlySet<string>;
  /** Validation only: a required parameter without a value is not a problem. */
  allowMissing?: boolean;
}

// Parses `--set NAME=VALUE` options (the last one for a name wins).
export function parseSetOptions(values: string[]): Record<string, string> {
  const set: Record<string, string> = {};
  for (const option of values) {
    const equals = option.indexOf('=');
    const name = equals === -1 ? '' : option.slice(0, equals).trim();
    if (!name) {
      throw new ConfigError(`--set ${option}: expected NAME=VALUE`, { hint: 'for example --set mode=read-only' });
    }
    set[name] = option.slice(equals + 1);
  }
  return set;
}

// Resolved values and the problems found (unknown names, missing required values, values outside choices).
export function resolveParams(
  declared: PlaybookDocument['params'],
  sources: ParamSources,
): { values: Record<string, ParamValue>; problems: Problem[] } {
  const specs = Object.fromEntries(Object.entries(declared ?? {}).map(([name, spec]) => [name, spec ?? {}]));
  const names = Object.keys(specs);
  const known = names.length > 0 ? `this playbook's parameters: ${names.join(', ')}` : 'this playbook declares no parameters';
  const problems: Problem[] = [];
  const values: Record<string, ParamValue> = {};
  for (const [name, spec] of Object.entries(specs)) {
    values[name] = spec.default ?? null;
    if (spec.default !== undefined && spec.choices && !spec.choices.some((c) => String(c) === String(spec.default))) {
      problems.push({ path: ['params', name, 'default'], problem: `default is not one of ${spec.choices.join(', ')}` });
    }
  }
  for (const [name, value] of Object.entries(sources.filled ?? {})) {
    if (value === undefined) continue;
    if (!Object.hasOwn(specs, name)) {
      problems.push({ path: ['params', name], problem: `the command sets parameter "${name}" but this playbook does not declare it`, hint: `declare it under params: (${known})` });
    } else values[name] = value;
  }
  for (const [name, text] of Object.entries(sources.set ?? {})) {
    const spec = specs[name];
    if (!spec) {
      problems.push({ path: ['params', name], problem: `--set ${name}: unknown parameter`, hint: known });
      continue;
    }
    const converted = convertSetValue(text, spec.default ?? spec.choices?.[0]);
    if (converted === undefined) {
      problems.push({ path: ['params', name], problem: `--set ${name}: expected ${typeof spec.default === 'number' ? 'a number' : 'true or false'}` });
    } else values[name] = converted;
  }
  for (const [name, spec] of Object.entries(specs)) {
    const value = values[name] ?? null;
    if (spec.required && !sources.allowMissing && (value === null || value === '')) {
      const example = sources.hostParams?.has(name) ? 'HOST' : spec.choices ? String(spec.choices[0]) : 'VALUE';
      problems.push({ path: ['params', name], problem: `parameter "${name}" is required; pass --set ${name}=${example}`, hint: 'failover, switchover and rejoin fill it from what they discover; mirrorctl run needs --set' });
    } else if (value !== null && spec.choices && !spec.choices.some((c) => String(c) === String(value))) {
      problems.push({
        path: ['params', name],
        problem: `parameter "${name}" is "${value}", not one of ${spec.choices.join(', ')}`,
        hint: `pass --set ${name}=${spec.choices[0]}`,
      });
    }
  }
  return { values, problems };
}

// A `--set` string as the type of the parameter's default (or first choice); undefined when it does not convert.
function convertSetValue(text: string, like: unknown): string | number | boolean | undefined {
  if (typeof like === 'number') {
    const number = Number(text.trim());
    return text.trim() !== '' && Number.isFinite(number) ? number : undefined;
  }
  if (typeof like === 'boolean') {
    const lower = text.trim().toLowerCase();
    if (['true', 'yes', 'on', '1'].includes(lower)) return true;
    if (['false', 'no', 'off', '0'].includes(lower)) return false;
    return undefined;
  }
  return text;
}
