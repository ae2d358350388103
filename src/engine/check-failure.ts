import type { CheckResult } from '../actions/types.js';
import { ConfigError, MirrorError } from '../errors.js';
import { CommandError } from '../transports/command-error.js';
import type { StepSpec } from '../playbook/schema.js';
import { messageOf } from '../error-sentence.js';

/** A check that threw: configuration errors propagate (exit 2); anything else blocks the step with one sentence. */
export function checkFailure(error: unknown, spec: StepSpec): CheckResult {
  if (error instanceof ConfigError) throw error;
  if (error instanceof MirrorError) return { status: 'blocked', summary: error.sentence };
  if (error instanceof CommandError) return { status: 'blocked', summary: error.message };
  const message = messageOf(error);
  return { status: 'blocked', summary: `check of ${spec.id} failed: ${message}` };
}
