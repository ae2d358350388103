import { processSecrets } from './mask.js';
import { printable } from './printable.js';

/**
 * The one printer of a failure on stderr, for the top-level handler and for a run that
 * ended badly alike: `LABEL: sentence` (error, blocked, locked, refused, aborted), secrets
 * masked, control characters escaped.
 */
export function writeErrorLine(label: string, sentence: string): string {
  const line = printable(processSecrets.redact(sentence));
  process.stderr.write(`${label}: ${line}\n`);
  return line;
}
