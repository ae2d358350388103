import type { KeyPath } from '../inventory/positions.js';
import type { Problem } from '../inventory/problems.js';
import { templateSites, type Quoting } from './shell-quoting.js';
import { parseTemplate, TemplateSyntaxError } from './templates.js';

// Templates in shell commands (`run`, `check`, `unless`, inventory `checks`) become one
// quoted shell word, so they must stand where the shell reads bare words (spec 7).

/** Keys of a step's `with` that hold shell commands (spec 7). */
export const COMMAND_KEYS: readonly string[] = ['run', 'check', 'unless'];

const HINTS: Record<Exclude<Quoting, 'bare'>, string> = {
  'single quotes': 'write the template outside the quotes: mirrorctl quotes every template value as one shell word',
  'double quotes': 'write the template outside the quotes: mirrorctl quotes every template value as one shell word (inside "$(…)" is fine)',
  'a here-document': "pass the value as an argument instead, e.g. printf '%s\\n' {{ … }} | cmd",
};

// One problem for every template of `command` that the shell would read quoted or in a here-document.
export function commandTemplateProblems(command: string, path: KeyPath): Problem[] {
  return templateSites(command)
    .filter((site) => site.quoting !== 'bare')
    .map((site) => {
      const quoting = site.quoting as Exclude<Quoting, 'bare'>;
      return {
        path,
        problem: `{{ ${site.ref} }} is inside ${quoting}, where quoting its value would break the command or let the value run as code`,
        hint: HINTS[quoting],
      };
    });
}

// For a command nothing else validates (inventory `checks`): a malformed template, else the quoting problems.
export function commandProblems(command: string, path: KeyPath): Problem[] {
  try {
    parseTemplate(command);
  } catch (error) {
    if (!(error instanceof TemplateSyntaxError)) throw error;
    return [{ path, problem: error.message, hint: 'write templates as {{ params.NAME }} or {{ inventory.PATH }}' }];
  }
  return commandTemplateProblems(command, path);
}
