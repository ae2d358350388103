// Templates in playbooks: `{{ params.NAME }}`, `{{ steps.ID.NAME }}`, `{{ inventory.PATH }}`.
// A string that is exactly one template keeps the referenced value's type.

/** Marker returned by `stepOutput` when the referenced step was skipped. */
export const SKIPPED: unique symbol = Symbol('skipped');

/** What templates may refer to while a playbook is planned or run. */
export interface TemplateScope {
  params: Record<string, unknown>;
  /** The inventory document (defaults applied). */
  inventory: unknown;
  /** An earlier step's output; undefined when not produced yet (plan phase); SKIPPED when that step was skipped. */
  stepOutput(id: string, name: string): unknown | undefined | typeof SKIPPED;
}

/** Thrown by `render` when a step uses an output of a step that was skipped: that step is skipped too. */
export class SkippedDependency extends Error {
  constructor(readonly stepId: string) {
    super(`uses an output of step ${stepId}, which was skipped`);
    this.name = 'SkippedDependency';
  }
}

/** A malformed template (unbalanced braces, not a reference). The playbook loader adds file and line. */
export class TemplateSyntaxError extends Error {
  override name = 'TemplateSyntaxError';
}

export type TemplatePart = { text: string } | { ref: string };

const REFERENCE = /^(params|steps|inventory)((\.[A-Za-z0-9_-]+)|(\[\d+\]))+$/;

// Splits a string into literal text and references; throws TemplateSyntaxError when malformed.
export function parseTemplate(text: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let rest = text;
  while (rest.length > 0) {
    const open = rest.indexOf('{{');
    const strayClose = rest.indexOf('}}');
    if (strayClose !== -1 && (open === -1 || strayClose < open)) {
      throw new TemplateSyntaxError(`unbalanced braces: "}}" without "{{" in "${text}"`);
    }
    if (open === -1) {
      parts.push({ text: rest });
      break;
    }
    const close = rest.indexOf('}}', open + 2);
    if (close === -1) throw new TemplateSyntaxError(`unbalanced braces: "{{" without "}}" in "${text}"`);
    if (open > 0) parts.push({ text: rest.slice(0, open) });
    const ref = rest.slice(open + 2, close).trim();
    if (ref.includes('{') || ref.includes('}') || !REFERENCE.test(ref)) {
      throw new TemplateSyntaxError(`"{{ ${ref} }}" is not a reference: use params.NAME, steps.ID.NAME or inventory.PATH`);
    }
    parts.push({ ref });
    rest = rest.slice(close + 2);
  }
  return parts;
}

// `inventory.database.hosts[0]` → ['inventory', 'database', 'hosts', 0]; also checks the syntax.
export function splitReference(ref: string): Array<string | number> {
  if (!REFERENCE.test(ref)) {
    throw new TemplateSyntaxError(`"${ref}" is not a reference: use params.NAME, steps.ID.NAME or inventory.PATH`);
  }
  return [...ref.matchAll(/\.?([A-Za-z0-9_-]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]!));
}

// Every reference in a value (strings, arrays, objects walked), in order, without repeats.
export function referencesIn(value: unknown): string[] {
  const found = new Set<string>();
  walkStrings(value, (text) => {
    for (const part of parseTemplate(text)) if ('ref' in part) found.add(part.ref);
  });
  return [...found];
}

// Calls `visit` for every string inside `value`.
export function walkStrings(value: unknown, visit: (text: string) => void): void {
  if (typeof value === 'string') visit(value);
  else if (Array.isArray(value)) value.forEach((item) => walkStrings(item, visit));
  else if (isPlainObject(value)) Object.values(value).forEach((item) => walkStrings(item, visit));
}

// The value with every template replaced; throws SkippedDependency for an output of a skipped step.
export function render(value: unknown, scope: TemplateScope): unknown {
  if (typeof value === 'string') return renderString(value, scope);
  if (Array.isArray(value)) return value.map((item) => render(item, scope));
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, render(item, scope)]));
  }
  return value;
}

function renderString(text: string, scope: TemplateScope): unknown {
  const parts = parseTemplate(text);
  const only = parts.length === 1 ? parts[0] : undefined;
  if (only && 'ref' in only) return resolveReference(only.ref, scope);
  return parts.map((part) => ('ref' in part ? asText(resolveReference(part.ref, scope)) : part.text)).join('');
}

// The value a reference names in the scope (placeholder `<steps.ID.NAME>` for outputs not produced yet).
export function resolveReference(ref: string, scope: TemplateScope): unknown {
  const [root, ...path] = splitReference(ref);
  if (root === 'params') {
    const name = String(path[0]);
    if (path.length !== 1 || !Object.hasOwn(scope.params, name)) throw new Error(`unknown parameter in ${ref}`);
    return scope.params[name];
  }
  if (root === 'steps') {
    const [id, name] = path.map(String);
    if (path.length !== 2) throw new Error(`${ref} must be steps.ID.NAME`);
    const output = scope.stepOutput(id!, name!);
    if (output === SKIPPED) throw new SkippedDependency(id!);
    return output === undefined ? `<steps.${id}.${name}>` : output;
  }
  const value = valueAtPath(scope.inventory, path);
  if (value === undefined) throw new Error(`${ref} is not set in the inventory`);
  return value;
}

// True when every `reference: value` of a `when` holds (compared as strings; an unset value is "").
export function evaluateWhen(when: Record<string, unknown>, scope: TemplateScope): boolean {
  return Object.entries(when).every(([ref, expected]) => asText(resolveReference(ref, scope)) === asText(expected));
}

// The value at a key path inside plain data, or undefined.
export function valueAtPath(data: unknown, path: ReadonlyArray<string | number>): unknown {
  let value = data;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}

function asText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(value));
}
