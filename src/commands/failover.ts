import { ConfigError } from '../errors.js';
import { chooseTarget } from '../site/choose-target.js';
import type { RunOptions } from './options.js';
import { configFlag, runSiteCommand } from './site-run.js';

/** `mirrorctl failover [--to HOST] [--mode promote|read-only]`. */
export async function failoverCommand(options: RunOptions & { to?: string; mode?: string }, commandLine: string): Promise<number> {
  const mode = options.mode ?? 'promote';
  if (mode !== 'promote' && mode !== 'read-only') throw new ConfigError(`--mode ${mode}: must be promote or read-only`);
  return runSiteCommand('failover', options, commandLine, (inventory, roles) => {
    const { to, from } = chooseTarget(inventory, roles, options.to, 'failover');
    return {
      target: to,
      params: { to, from, mode },
      resumeCommand: `mirrorctl failover --to ${to} --mode ${mode}${configFlag(options)} --yes`,
    };
  });
}
