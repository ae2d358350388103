// Commander wiring only: each command lazily imports its module, so `--help` stays instant.
import { readFileSync } from 'node:fs';
import { Argument, Command, CommanderError, Option } from 'commander';
import type { CommonOptions, RunOptions } from './commands/options.js';
import { processSecrets } from './reporters/mask.js';
import { printable } from './reporters/printable.js';
import { writeErrorLine } from './reporters/error-line.js';

type Handler = (options: RunOptions & { to?: string; mode?: string; dir?: string }, ...args: string[]) => Promise<number>;

/** Entry point used by bin/mirrorctl. */
export async function main(argv: string[]): Promise<void> {
  // A reader that goes away (`mirrorctl runs | head`) ends the output, not the run.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
    });
  }
  const program = buildProgram(['mirrorctl', ...argv.slice(2)].join(' '));
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0 ? 0 : 2;
      return;
    }
    process.exitCode = report(error, {});
  }
}

/**
 * Every command and option, with the lazy handlers that run them: the one source of
 * `--help`, the man page (src/docs/man-page.ts) and shell completion (src/completion/).
 */
export function buildProgram(commandLine = 'mirrorctl'): Command {
  const program = new Command('mirrorctl')
    .description('Move a site between its primary host and its mirror, safely')
    .version(version(), '--version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .exitOverride();

  const wire = (cmd: Command, run: boolean, handler: Handler) => {
    common(cmd);
    if (run) runOptions(cmd);
    cmd.action(async (...args: unknown[]) => {
      const command = args.at(-1) as Command;
      const options = command.opts<RunOptions>();
      const positional = args.slice(0, -2) as string[];
      process.exitCode = await handler(options, ...positional).catch((error: unknown) => report(error, options));
    });
  };

  wire(program.command('run <playbook>').description('run a playbook (name or path)'), true, async (o, playbook) =>
    (await import('./commands/run.js')).runCommand(playbook!, o, commandLine),
  );
  wire(
    program
      .command('failover')
      .description('bring the site up on the mirror after the primary is lost')
      .option('--to <host>', 'target host (default: the single reachable replica)')
      .addOption(new Option('--mode <mode>', 'promote the mirror, or serve it read-only').choices(['promote', 'read-only']).default('promote')),
    true,
    async (o) => (await import('./commands/failover.js')).failoverCommand(o, commandLine),
  );
  wire(
    program.command('switchover').description('planned move to the mirror, zero data loss; run again to switch back').option('--to <host>', 'target host (default: the single reachable replica)'),
    true,
    async (o) => (await import('./commands/switchover.js')).switchoverCommand(o, commandLine),
  );
  wire(program.command('rejoin <host>').description('make a returned old primary a streaming replica again'), true, async (o, host) =>
    (await import('./commands/rejoin.js')).rejoinCommand(host!, o, commandLine),
  );
  wire(program.command('status').description('who serves the site: roles, lag, portable IP, sessions, cache'), false, async (o) =>
    (await import('./commands/status.js')).statusCommand(o),
  );
  wire(program.command('validate [playbook]').description('check the inventory and playbooks offline'), false, async (o, playbook) =>
    (await import('./commands/validate.js')).validateCommand(playbook, o),
  );
  wire(program.command('playbooks').description('list playbooks with one-line summaries'), false, async (o) =>
    (await import('./commands/playbooks.js')).playbooksCommand(o),
  );
  wire(program.command('runs [run_id]').description('list past runs, or show one run\'s journal'), false, async (o, id) =>
    (await import('./commands/runs.js')).runsCommand(id, o),
  );
  wire(program.command('unlock').description('remove stale site locks, after confirmation').option('--force', 'also remove locks held from another machine'), false, async (o) =>
    (await import('./commands/unlock.js')).unlockCommand(o),
  );

  const repeatable = (v: string, prev: string[] = []) => [...prev, v];
  wire(
    program
      .command('init')
      .description('write a checked mirrorctl.yaml for a real site: asks (or takes flags), connects to both hosts, finds the rest')
      .option('-o, --output <file>', 'where to write the inventory (default ./mirrorctl.yaml)')
      .option('--force', 'replace an existing file')
      .option('--site <name>', 'the site name')
      .addOption(new Option('--host <name=address>', 'one host of the pair, as NAME=ADDRESS (give it twice)').argParser(repeatable))
      .option('--ssh-user <user>', 'SSH login user (not root: it needs NOPASSWD sudo)')
      .option('--ssh-port <port>', 'SSH port')
      .option('--identity-file <file>', 'SSH private key (default: the SSH agent)')
      .option('--known-hosts <file>', 'known_hosts file to check and record host keys in (default ~/.ssh/known_hosts)')
      .option('--sudo', 'run root commands through sudo -n (default: found out on the hosts)')
      .option('--no-sudo', 'the login is root: no sudo')
      .option('--portable-ip <address/prefix>', 'the portable (floating) IP users reach the site at')
      .addOption(new Option('--interface <host=iface>', "a host's interface for the portable IP (repeatable; default: found)").argParser(repeatable))
      .option('--password-env <name>', 'NAME of the environment variable holding the database password')
      .option('--db-port <port>', 'the PostgreSQL port, when a host runs several servers')
      .option('--service-start <command>', 'command that starts PostgreSQL (default: its systemd unit, else pg_ctl)')
      .option('--service-stop <command>', 'command that stops PostgreSQL (default: its systemd unit, else pg_ctl)')
      .addOption(new Option('--memcached <host:port>', 'a memcached server (repeatable; default: found listening)').argParser(repeatable))
      .option('--sessions-file <file>', 'file holding the session storage setting')
      .option('--sessions-key <key>', 'the setting\'s key in that file')
      .option('--read-only <value>', 'its value for read-only session storage')
      .option('--read-write <value>', 'its value for sessions in the database')
      .option('--sessions-reload <command>', 'command that makes the app re-read the file (optional)')
      .addOption(new Option('--files <path>', 'a directory of uploaded files to copy (repeatable)').argParser(repeatable))
      .option('--http-url <url>', "the site's health URL through the portable IP")
      .addOption(new Option('--accept-host-key <name=SHA256:...>', 'trust this host key fingerprint for a host known_hosts does not know (repeatable)').argParser(repeatable)),
    false,
    async (o) => (await import('./commands/init.js')).initCommand(o as never),
  );

  program
    .command('completion')
    .description('print a shell completion script (commands, options, playbook and host names) on stdout')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh', 'fish']))
    .action(async (shell: 'bash' | 'zsh' | 'fish') => {
      process.stdout.write((await import('./completion/scripts.js')).completionScript(shell));
    });
  program
    .command('__complete', { hidden: true })
    .description('the candidates for the last of WORDS (used by the completion scripts)')
    .argument('[words...]')
    .allowUnknownOption()
    .helpOption(false)
    .action(async (words: string[]) => {
      const [{ complete }, { siteNames }] = await Promise.all([import('./completion/complete.js'), import('./completion/site-names.js')]);
      const candidates = await complete(buildProgram(), words.length > 0 ? words : [''], siteNames);
      process.stdout.write(candidates.map((c) => `${c}\n`).join(''));
    });

  const lab = program.command('lab').description('a local sandbox site: two hosts in network namespaces (root, Linux)');
  for (const [name, about] of [
    ['up', 'build the lab (harmless when it is up)'],
    ['down', 'remove every trace of the lab'],
    ['status', 'tell which parts of the lab run'],
  ] as const) {
    wire(lab.command(name).description(about).option('--dir <dir>', 'lab directory', './mirrorctl-lab'), false, async (o) => {
      const labCommands = await import('./commands/lab.js');
      const run = name === 'up' ? labCommands.labUp : name === 'down' ? labCommands.labDown : labCommands.labStatus;
      await run({ dir: o.dir!, json: o.json });
      return 0;
    });
  }
  wire(
    lab.command('demo').description('the whole story on the lab: up, switchover, failover with the primary cut off, rejoin, switch back (npm run demo)').option('--dir <dir>', 'lab directory', './mirrorctl-lab'),
    false,
    async (o) => (await import('./commands/lab-demo.js')).labDemo({ dir: o.dir! }),
  );

  return program;
}

export function common(cmd: Command): void {
  cmd
    .option('-c, --config <file>', 'inventory file (default $MIRRORCTL_CONFIG, else ./mirrorctl.yaml)')
    .option('--state-dir <dir>', 'where journals and control locks live (default $XDG_STATE_HOME/mirrorctl)')
    .option('--json', 'machine-readable output: NDJSON events on stdout')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('-v, --verbose', 'more detail, and stack traces for internal errors')
    .option('--no-color', 'no colour (NO_COLOR is honoured too)');
}

export function runOptions(cmd: Command): void {
  cmd
    .option('--dry-run', 'run every check, change nothing')
    .option('--junit <file>', 'write a JUnit XML report, one testcase per step')
    .option('--step', 'confirm each step before it runs')
    .option('--from-step <id>', 'resume at this step: earlier steps are checked, never applied; one not done blocks')
    .option('--probe', 'measure what users see through the portable IP during the run')
    .option('--report <dir>', 'write the rehearsal report (report.json, .svg, .html) there; implies --probe')
    .addOption(new Option('--set <name=value>', 'set a playbook parameter (repeatable)').argParser((v: string, prev: string[] = []) => [...prev, v]));
}

/**
 * Prints one sentence for a failure and returns its exit code; stack traces (with their
 * causes) only with --verbose. Secrets are masked and control characters escaped in all of it.
 */
export function report(error: unknown, options: CommonOptions): number {
  const e = error as { exitCode?: number; sentence?: string; message?: string; stack?: string };
  const known = typeof e?.exitCode === 'number' && typeof e?.sentence === 'string';
  const exitCode = known ? e.exitCode! : 1;
  const message = writeErrorLine('error', known ? e.sentence! : `internal error: ${e?.message ?? String(error)}`);
  if (options.json) {
    process.stdout.write(JSON.stringify({ event: 'error', run_id: null, ts: new Date().toISOString(), exit_code: exitCode, message }) + '\n');
  }
  if (options.verbose && e?.stack) process.stderr.write(`${printable(processSecrets.redact(stackWithCauses(error)), { keepNewlines: true })}\n`);
  return exitCode;
}

// The error's stack, then each `cause` in turn (at most 10 deep, in case of a cycle).
function stackWithCauses(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 10; depth++) {
    const e = current as { stack?: unknown; message?: unknown; cause?: unknown };
    const text = typeof e.stack === 'string' ? e.stack : typeof e.message === 'string' ? e.message : String(current);
    parts.push(depth === 0 ? text : `caused by: ${text}`);
    current = typeof current === 'object' ? e.cause : undefined;
  }
  return parts.join('\n');
}

export function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}
