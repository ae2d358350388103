import { commandProblems } from '../playbook/command-templates.js';
import type { Problem } from './problems.js';
import type { InventoryDocument } from './schema.js';

// The site preflight `checks` are shell commands: their templates must parse and stand
// where the shell reads bare words (spec 7), like a playbook's `run`.

// Problems in the `run` commands of `checks`.
export function checkCommandProblems(doc: InventoryDocument): Problem[] {
  return (doc.checks ?? []).flatMap((check, i) => commandProblems(check.run, ['checks', i, 'run']));
}
