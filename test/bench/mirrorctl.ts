import { join } from 'node:path';
import { PROJECT_ROOT } from './product.js';
import { timedRun, type TimedRun } from './timed-process.js';

// Runs the built CLI (bin/mirrorctl) as a user would, with the bench's own state
// directory: colleagues' labs use the same site name, and the control machine's site
// lock lives in the state directory.

export const MIRRORCTL_BIN = join(PROJECT_ROOT, 'bin', 'mirrorctl');

/** The environment for every mirrorctl the bench starts. */
export function mirrorctlEnv(stateHome: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_STATE_HOME: stateHome, NO_COLOR: '1' };
  delete env.MIRRORCTL_CONFIG;
  return env;
}

/** `node bin/mirrorctl ARGS`, timed. */
export function mirrorctl(args: readonly string[], stateHome: string, timeoutMs = 180_000): Promise<TimedRun> {
  return timedRun(process.execPath, [MIRRORCTL_BIN, ...args], { env: mirrorctlEnv(stateHome), timeoutMs, cwd: PROJECT_ROOT });
}
