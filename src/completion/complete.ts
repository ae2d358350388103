// What the shell offers at <TAB>: walks the commander program (the one source of
// commands and options) along the words typed so far. Host names and playbook names
// come from the inventory the words point at (-c FILE, else $MIRRORCTL_CONFIG, else
// ./mirrorctl.yaml). The shell scripts (scripts.ts) print what this returns.
import type { Command, Option } from 'commander';

/** Values the shell completes by itself: file or directory names. */
export const FILES = '@files';
export const DIRS = '@dirs';

/** What completion needs from the site: read lazily, only when a candidate list needs it. */
export interface SiteNames {
  hosts(inventoryFile: string): Promise<string[]>;
  playbooks(inventoryFile: string): Promise<string[]>;
}

const FILE_OPTIONS = new Set(['--config', '--junit', '--output', '--identity-file', '--known-hosts']);
const DIR_OPTIONS = new Set(['--state-dir', '--dir', '--report']);
const HOST_OPTIONS = new Set(['--to']);
const HOST_ARGUMENTS = new Set(['rejoin:host']);
const PLAYBOOK_ARGUMENTS = new Set(['run:playbook', 'validate:playbook']);

/** Candidates for the last word of `words` (the words after `mirrorctl`; the last may be empty). */
export async function complete(program: Command, words: string[], names: SiteNames): Promise<string[]> {
  const current = words.at(-1) ?? '';
  const before = words.slice(0, -1);
  let command = program;
  let expecting: Option | null = null;
  let positionals = 0;
  let config = process.env.MIRRORCTL_CONFIG || 'mirrorctl.yaml';
  for (let i = 0; i < before.length; i++) {
    const word = before[i]!;
    if (expecting) {
      if (expecting.long === '--config') config = word;
      expecting = null;
      continue;
    }
    if (word.startsWith('-')) {
      const [flag, inline] = word.split('=', 2) as [string, string | undefined];
      const option = findOption(command, flag);
      if (option?.long === '--config' && inline !== undefined) config = inline;
      if (option && (option.required || option.optional) && inline === undefined) expecting = option;
      continue;
    }
    const sub = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (sub && positionals === 0) command = sub;
    else positionals++;
  }

  let candidates: string[];
  if (expecting) {
    const long = expecting.long ?? '';
    if (FILE_OPTIONS.has(long)) return [FILES];
    if (DIR_OPTIONS.has(long)) return [DIRS];
    if (HOST_OPTIONS.has(long)) candidates = await names.hosts(config);
    else candidates = expecting.argChoices ?? [];
  } else if (current.startsWith('-')) {
    candidates = visibleOptions(command).flatMap((o) => [o.long, o.short]).filter((f): f is string => Boolean(f));
  } else {
    const subcommands = command.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden).map((c) => c.name());
    const argument = command.registeredArguments[positionals];
    const key = argument ? `${command.name()}:${argument.name()}` : '';
    candidates = positionals === 0 && subcommands.length > 0 ? subcommands.filter((n) => n !== 'help') : [];
    if (HOST_ARGUMENTS.has(key)) candidates = await names.hosts(config);
    else if (PLAYBOOK_ARGUMENTS.has(key)) candidates = await names.playbooks(config);
    else if (argument?.argChoices) candidates = argument.argChoices;
  }
  return [...new Set(candidates)].filter((c) => c.startsWith(current));
}

function visibleOptions(command: Command): Option[] {
  return command.createHelp().visibleOptions(command);
}

function findOption(command: Command, flag: string): Option | undefined {
  return visibleOptions(command).find((o) => o.long === flag || o.short === flag || (o.negate && o.long === flag));
}
