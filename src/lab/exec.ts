import type { LabHostName, LabNames, LabNodeName } from './paths.js';
import { netnsPath } from './paths.js';

// Running commands on the control machine and inside the lab's hosts (nsenter).

export interface LabCommandResult {
  command: string;
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A minimal environment: the operator's shell setup (pyenv, cargo, ...) never leaks into the hosts. */
export const HOST_ENV: Record<string, string> = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  HOME: '/root',
  LANG: 'C.UTF-8',
  LC_ALL: 'C.UTF-8',
  USER: 'root',
  LOGNAME: 'root',
  SHELL: '/bin/sh',
};

/** Runs a program on the control machine; resolves with its result whatever the exit code. */
export async function run(file: string, args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<LabCommandResult> {
  const { execa } = await import('execa');
  const result = await execa(file, args, {
    reject: false,
    env: HOST_ENV,
    extendEnv: false,
    input: options.input ?? '',
    timeout: options.timeoutMs ?? 120_000,
    stripFinalNewline: true,
  });
  return {
    command: [file, ...args].join(' '),
    exitCode: result.exitCode ?? -1,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
  };
}

/** Like `run`, but throws with the command's stderr when it fails. */
export async function runOk(file: string, args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<LabCommandResult> {
  const result = await run(file, args, options);
  if (result.exitCode !== 0) throw new LabCommandFailed(result);
  return result;
}

export class LabCommandFailed extends Error {
  constructor(readonly result: LabCommandResult) {
    super(`\`${result.command.slice(0, 200)}\` exited ${result.exitCode}: ${(result.stderr || result.stdout).trim().split('\n').slice(-3).join(' / ')}`);
    this.name = 'LabCommandFailed';
  }
}

/** nsenter arguments that put a command inside a lab node (network + the host's own mount namespace). */
export function nsenterArgs(names: LabNames, node: LabNodeName): string[] {
  const args = [`--net=${netnsPath(names.netns[node])}`];
  if (node !== 'client') args.push(`--mount=${names.mountNs[node as LabHostName]}`);
  return args;
}

/** Runs a shell command inside a lab node; resolves whatever the exit code. */
export function nodeExec(names: LabNames, node: LabNodeName, command: string, options: { input?: string; timeoutMs?: number } = {}): Promise<LabCommandResult> {
  return run('nsenter', [...nsenterArgs(names, node), '--', '/bin/sh', '-c', command], options);
}

/** Runs a shell command inside a lab node; throws when it fails. */
export function nodeExecOk(names: LabNames, node: LabNodeName, command: string, options: { input?: string; timeoutMs?: number } = {}): Promise<LabCommandResult> {
  return runOk('nsenter', [...nsenterArgs(names, node), '--', '/bin/sh', '-c', command], options);
}

/**
 * Shell function `alive PIDFILE`: true when the pid in PIDFILE is a live process of this
 * node. The hosts share the control machine's pid numbers, so "alive" also means "in this
 * network namespace" (a zombie has no namespace, another host's process has another).
 */
export const SHELL_ALIVE = `alive() { p=$(head -n 1 "$1" 2>/dev/null) && [ -n "$p" ] && [ "$(readlink /proc/"$p"/ns/net 2>/dev/null)" = "$(readlink /proc/self/ns/net)" ]; }`;
