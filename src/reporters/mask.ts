// Secrets read from `*_env` variables never leave the process: every path out (events,
// journal, JUnit, the human reporter, the top-level error printer) masks them as ***.

/**
 * Secrets shorter than this are not masked: replacing every "a" or "42" in the output
 * would mangle every line and still show the secret's length and places.
 */
export const MIN_SECRET_LENGTH = 3;

/** A set of secret values and the one way to mask them. */
export class SecretMask {
  private secrets: string[] = [];

  /** Adds a secret (ignored when unset or shorter than MIN_SECRET_LENGTH). */
  add(value: string | undefined): void {
    if (!value || value.length < MIN_SECRET_LENGTH || this.secrets.includes(value)) return;
    // Longest first, so a secret that contains another is masked whole.
    this.secrets = [...this.secrets, value].sort((a, b) => b.length - a.length);
  }

  get size(): number {
    return this.secrets.length;
  }

  /** Replaces every known secret in a string with ***. */
  redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) out = out.split(secret).join('***');
    return out;
  }
}

/** The process's secrets: the inventory loader adds them; event buses and the top-level error printer mask with them. */
export const processSecrets = new SecretMask();
