import { ConfigError } from '../errors.js';
import type { StepContext } from './types.js';
import type { Transport } from '../transports/types.js';

/** The transport of the step's own host (actions that need `host`). */
export function stepHost(ctx: StepContext): Promise<Transport> {
  if (!ctx.host) throw new ConfigError(`step ${ctx.stepId} needs a host`, { hint: 'add `host:` to the step' });
  return ctx.hosts.get(ctx.host);
}

/** First line of a command's error output, for findings. */
export function firstLine(text: string): string {
  return text.trim().split('\n').filter(Boolean).at(-1)?.trim() ?? '';
}
