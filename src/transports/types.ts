import type { Duplex } from 'node:stream';

/** What every command run on a host returns, local or remote, success or failure. */
export interface CommandResult {
  command: string;
  host: string;
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
}

export interface ExecOptions {
  /** Upper bound for the command, enforced on the host side too. Default 60 s. */
  timeoutMs?: number;
  /** Written to the command's stdin, then stdin is closed. */
  input?: string;
  /** Abort the command (it is killed on the host). */
  signal?: AbortSignal;
}

/** How mirrorctl reaches one host: a shell for commands and a TCP forwarder. */
export interface Transport {
  readonly host: string;
  /** Runs one shell command line (arguments already quoted with `quote`). Resolves for any exit code; never rejects for a failing command. */
  exec(command: string, options?: ExecOptions): Promise<CommandResult>;
  /** Opens a TCP stream to `port` on `address` (default 127.0.0.1) as seen from the host. */
  forward(port: number, address?: string): Promise<Duplex>;
  /** Closes the connection; pending commands are ended. */
  close(): Promise<void>;
  /** False once the connection was lost during the run (a host found dead is not tried again). */
  readonly alive?: boolean;
  /** Calls `listener` once when the connection is lost (never for a close mirrorctl asked for). */
  onLost?(listener: () => void): void;
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 60_000;
