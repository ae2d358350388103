import type { CommandResult } from './types.js';
import { lastLine } from './last-line.js';

/** A command that exited non-zero, was killed, or timed out; carries its full result. */
export class CommandError extends Error {
  readonly result: CommandResult;
  constructor(result: CommandResult) {
    super(describeFailure(result));
    this.name = 'CommandError';
    this.result = result;
  }
}

/** One line saying how a command failed, with the first line of its stderr. */
export function describeFailure(result: CommandResult): string {
  const how = result.timedOut
    ? `timed out after ${result.durationMs} ms`
    : result.signal
      ? `was killed by ${result.signal}`
      : `exited ${result.exitCode}`;
  const detail = lastLine(result.stderr) || lastLine(result.stdout);
  return `\`${shorten(result.command)}\` on ${result.host} ${how}${detail ? `: ${detail}` : ''}`;
}

function shorten(command: string): string {
  const oneLine = command.replace(/\s+/g, ' ');
  return oneLine.length > 120 ? `${oneLine.slice(0, 117)}...` : oneLine;
}

/** Throws CommandError unless the command exited 0. */
export function assertSucceeded(result: CommandResult): CommandResult {
  if (result.exitCode !== 0 || result.timedOut) throw new CommandError(result);
  return result;
}
