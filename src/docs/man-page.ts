// mirrorctl(1), generated from the commander program that also prints `--help`, so
// the two cannot drift: every command, argument and option comes from there; only
// the prose around them (exit status, environment, files, examples) is written here.
import type { Command, Option } from 'commander';

/** roff text: backslashes and hyphens escaped, no line starting with a control character. */
export function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .split('\n')
    .map((line) => (/^[.']/.test(line) ? `\\&${line}` : line))
    .join('\n');
}

/** `--to <host>` as `\fB\-\-to\fR \fIhost\fR`. */
function flags(option: Option): string {
  return option.flags
    .split(/(<[^>]+>|\[[^\]]+\])/)
    .map((part) => (/^[<[]/.test(part) ? `\\fI${roff(part.slice(1, -1))}\\fR` : part ? `\\fB${roff(part)}\\fR` : ''))
    .join('');
}

function optionItem(option: Option): string {
  const extras: string[] = [];
  if (option.argChoices) extras.push(`one of: ${option.argChoices.join(', ')}`);
  if (option.defaultValue !== undefined && typeof option.defaultValue !== 'boolean') extras.push(`default: ${String(option.defaultValue)}`);
  const text = extras.length > 0 ? `${option.description} (${extras.join('; ')})` : option.description;
  return `.TP\n${flags(option)}\n${roff(text)}`;
}

function usage(command: Command, path: string[]): string {
  const args = command.registeredArguments.map((a) => {
    const name = `${a.name()}${a.variadic ? '...' : ''}`;
    return a.required ? `\\fI${roff(name)}\\fR` : `[\\fI${roff(name)}\\fR]`;
  });
  if (command.options.length > 0) args.push('[\\fIoptions\\fR]');
  const name = [...path, command.name()].join(' ');
  return [`.SS "${name}"`, `.B ${name}`, ...(args.length > 0 ? [args.join(' ')] : [])].join('\n');
}

export interface ManPageInput {
  program: Command;
  version: string;
  /** Flags of the options every command takes, and of those every playbook-running command takes. */
  commonFlags: Set<string>;
  runFlags: Set<string>;
  /** Options to describe once, in their own sections. */
  commonOptions: readonly Option[];
  runOptions: readonly Option[];
}

/** The whole page, in roff (man(7) macros). */
export function manPage(input: ManPageInput): string {
  const { program } = input;
  const out: string[] = [];
  out.push(`.TH MIRRORCTL 1 "" "mirrorctl ${input.version}" "User Commands"`);
  out.push('.SH NAME', `mirrorctl \\- ${roff(program.description().replace(/^./, (c) => c.toLowerCase()))}`);
  out.push('.SH SYNOPSIS', '.B mirrorctl', '\\fIcommand\\fR [\\fIarguments\\fR] [\\fIoptions\\fR]', '.br', '.B mirrorctl', '\\fB\\-\\-help\\fR | \\fB\\-\\-version\\fR');
  out.push('.SH DESCRIPTION', roff(DESCRIPTION));
  out.push('.SH COMMANDS');
  const visit = (command: Command, path: string[]) => {
    for (const sub of command.commands) {
      if ((sub as unknown as { _hidden?: boolean })._hidden || sub.name() === 'help') continue;
      if (sub.commands.length > 0) {
        visit(sub, [...path, sub.name()]);
        continue;
      }
      out.push(usage(sub, path), '.PP', roff(sub.description()));
      const own = sub.options.filter((o) => !input.commonFlags.has(o.flags) && !input.runFlags.has(o.flags));
      for (const option of own) out.push(optionItem(option));
      const shared = [sub.options.some((o) => input.commonFlags.has(o.flags)) ? 'COMMON OPTIONS' : null, sub.options.some((o) => input.runFlags.has(o.flags)) ? 'RUN OPTIONS' : null].filter(Boolean);
      if (shared.length > 0) out.push('.PP', `Also the ${shared.join(' and the ')} below.`);
    }
  };
  visit(program, ['mirrorctl']);
  out.push('.SH COMMON OPTIONS', roff('Every command takes these after its name.'));
  for (const option of input.commonOptions) out.push(optionItem(option));
  out.push('.TP', '\\fB\\-h\\fR, \\fB\\-\\-help\\fR', roff('print the usage of the command and exit 0'));
  out.push('.SH RUN OPTIONS', roff('failover, switchover, rejoin and run take these too.'));
  for (const option of input.runOptions) out.push(optionItem(option));
  out.push('.SH EXIT STATUS');
  for (const [code, meaning] of EXIT_STATUS) out.push('.TP', `\\fB${code}\\fR`, roff(meaning));
  out.push('.SH ENVIRONMENT');
  for (const [name, meaning] of ENVIRONMENT) out.push('.TP', `\\fB${roff(name)}\\fR`, roff(meaning));
  out.push('.SH FILES');
  for (const [name, meaning] of FILES) out.push('.TP', `\\fI${roff(name)}\\fR`, roff(meaning));
  out.push('.SH EXAMPLES');
  for (const [what, command] of EXAMPLES) out.push('.PP', roff(what), '.RS', '.nf', roff(command), '.fi', '.RE');
  out.push('.SH SEE ALSO', '\\fBssh\\fR(1), \\fBssh_config\\fR(5), \\fBpg_ctl\\fR(1), \\fBmemcached\\fR(1)', '.PP', roff('README.md in the package for the inventory format and every command with real output.'));
  return `${out.join('\n')}\n`;
}

const DESCRIPTION = `mirrorctl moves a web site between its primary host and its mirror by running playbooks over SSH: ordered steps, each with a read-only check (run in dry runs and real runs alike), an apply and a verify. The inventory (mirrorctl.yaml) names the two hosts, the portable IP, the PostgreSQL pair, the memcached servers, the sessions file and the uploaded files; roles are discovered, not configured. mirrorctl init writes that inventory for a real site; mirrorctl lab up builds a sandbox site to try everything on.`;

const EXIT_STATUS: Array<[string, string]> = [
  ['0', 'succeeded; for --dry-run, no check is blocked; for init, a file was written that passes validate'],
  ['1', 'a step failed while applying or verifying'],
  ['2', 'usage, inventory or playbook error; or a change was asked for without --yes where no terminal can confirm it. Nothing was changed'],
  ['3', 'a check blocked the run, or the target could not be determined; for init, a host could not be reached or its key was not accepted'],
  ['4', 'another run holds the site lock'],
  ['5', 'init only: the inventory was written with placeholders to fill in (each named on stderr)'],
  ['130', 'interrupted (Ctrl-C) or declined at a prompt'],
];

const ENVIRONMENT: Array<[string, string]> = [
  ['MIRRORCTL_CONFIG', 'the inventory when -c is not given (else ./mirrorctl.yaml)'],
  ['XDG_STATE_HOME', 'the state directory is $XDG_STATE_HOME/mirrorctl (else ~/.local/state/mirrorctl): run journals and control-machine locks'],
  ['NO_COLOR', 'no colour in the output, like --no-color'],
  ['SSH_AUTH_SOCK', 'the SSH agent, used when the inventory names no identity_file'],
  ['the inventory\'s *_env names', 'secrets (the database password, a key passphrase) come only from the environment variables the inventory names'],
];

const FILES: Array<[string, string]> = [
  ['./mirrorctl.yaml', 'the inventory'],
  ['playbooks/', 'playbooks next to the inventory, found before the bundled ones'],
  ['~/.ssh/known_hosts', 'host keys, checked for every host (init records the ones the operator accepts)'],
  ['/run/mirrorctl/SITE.lock', 'the site lock on each host during a run'],
];

const EXAMPLES: Array<[string, string]> = [
  ['Write an inventory for a real site, answering questions:', 'mirrorctl init'],
  [
    'The same without questions (CI), trusting the host keys by fingerprint:',
    'mirrorctl init --yes --site wiki --host web1=192.0.2.10 --host web2=192.0.2.11 \\\n  --ssh-user deploy --portable-ip 192.0.2.100/24 --password-env WIKI_DB_PASSWORD \\\n  --sessions-file /etc/wiki/app.ini --read-only memcache --read-write database \\\n  --files /var/www/uploads --http-url http://192.0.2.100/health \\\n  --accept-host-key web1=SHA256:... --accept-host-key web2=SHA256:...',
  ],
  ['See what a switchover would do, then do it:', 'mirrorctl switchover --dry-run\nmirrorctl switchover'],
  ['The primary is lost:', 'mirrorctl failover'],
  ['Bash completion:', 'source <(mirrorctl completion bash)'],
  ['A sandbox site on this machine (Linux, root):', 'mirrorctl lab up && cd mirrorctl-lab && mirrorctl switchover --dry-run'],
];
