import { parseTemplate, resolveReference, type TemplateScope } from '../playbook/templates.js';
import { quote } from '../transports/quote.js';

/**
 * Renders a shell command from a playbook (`run`, `check`, `unless`): every
 * template value is substituted shell-quoted, so a parameter such as
 * `--set note='$(reboot)'` reaches the command as literal data.
 */
export function renderCommand(text: string, scope: TemplateScope): string {
  return parseTemplate(text)
    .map((part) => ('ref' in part ? quote(String(resolveReference(part.ref, scope) ?? '')) : part.text))
    .join('');
}

/** Renders `with`, quoting template values in the keys that hold shell commands. */
export function renderWith(value: Record<string, unknown>, commandKeys: readonly string[], scope: TemplateScope, render: (v: unknown, s: TemplateScope) => unknown): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, commandKeys.includes(key) && typeof item === 'string' ? renderCommand(item, scope) : render(item, scope)]),
  );
}
