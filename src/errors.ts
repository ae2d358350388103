// Typed errors: each carries its exit code and what the operator should do next.
// Only the top-level handler in cli.ts prints them.

export class MirrorError extends Error {
  readonly exitCode: number;
  readonly hint: string | undefined;
  constructor(message: string, exitCode: number, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.hint = options.hint;
  }
  /** One sentence for the operator: the problem, then what to do next. */
  get sentence(): string {
    return this.hint ? `${this.message}; ${this.hint}` : this.message;
  }
}

/** Usage, inventory or playbook error (exit 2). Nothing was changed. */
export class ConfigError extends MirrorError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, 2, options);
  }
}

/** A change was asked for without --yes and no terminal can confirm it (exit 2). */
export class RefusedError extends MirrorError {
  constructor(message: string, options: { hint?: string } = {}) {
    super(message, 2, options);
  }
}

/** A check blocked the run, or the target could not be determined (exit 3). */
export class BlockedError extends MirrorError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, 3, options);
  }
}

/** A step failed while applying or verifying (exit 1). */
export class StepFailedError extends MirrorError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, 1, options);
  }
}

/** Another run holds the site lock (exit 4). */
export class LockHeldError extends MirrorError {
  constructor(message: string, options: { hint?: string } = {}) {
    super(message, 4, options);
  }
}

/** Interrupted (Ctrl-C) or declined at the confirmation prompt (exit 130). */
export class AbortedError extends MirrorError {
  constructor(message: string, options: { hint?: string } = {}) {
    super(message, 130, options);
  }
}

/** A host did not answer (connection refused, no route, connect timeout). Optional steps skip it. */
export class HostUnreachableError extends MirrorError {
  readonly host: string;
  constructor(host: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, 3, options);
    this.host = host;
  }
}

/** A host answered but cannot be trusted or entered: unknown/changed key, refused authentication. Always blocks. */
export class HostTrustError extends MirrorError {
  readonly host: string;
  constructor(host: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, 3, options);
    this.host = host;
  }
}

/** A host offered a key that no known_hosts entry records for it: trusted only after the operator accepts it. */
export class UnknownHostKeyError extends HostTrustError {
  readonly key: Buffer;
  readonly keyType: string;
  readonly fingerprint: string;
  /** The name known_hosts records the host by: `address`, or `[address]:port`. */
  readonly knownHostsName: string;
  readonly knownHostsFile: string;
  constructor(host: string, message: string, details: { key: Buffer; keyType: string; fingerprint: string; knownHostsName: string; knownHostsFile: string; hint?: string }) {
    super(host, message, { hint: details.hint });
    this.key = details.key;
    this.keyType = details.keyType;
    this.fingerprint = details.fingerprint;
    this.knownHostsName = details.knownHostsName;
    this.knownHostsFile = details.knownHostsFile;
  }
}
