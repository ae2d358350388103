import { ConfigError } from '../errors.js';
import type { StepContext } from './types.js';
import type { Transport } from '../transports/types.js';

/** The step's own host name (actions that need `host`); a ConfigError when the step has none. */
export function stepHostName(ctx: StepContext): string {
  if (!ctx.host) throw new ConfigError(`step ${ctx.stepId} needs a host`, { hint: 'add `host:` to the step' });
  return ctx.host;
}

/** The transport of the step's own host. */
export function stepTransport(ctx: StepContext): Promise<Transport> {
  return ctx.hosts.get(stepHostName(ctx));
}
