import { chooseTarget } from '../site/choose-target.js';
import type { RunOptions } from './options.js';
import { configFlag, runSiteCommand } from './site-run.js';

/** `mirrorctl switchover [--to HOST]`: planned, zero data loss; run again to switch back. */
export async function switchoverCommand(options: RunOptions & { to?: string }, commandLine: string): Promise<number> {
  return runSiteCommand('switchover', options, commandLine, (inventory, roles) => {
    const { to, from } = chooseTarget(inventory, roles, options.to, 'switchover');
    return {
      target: to,
      params: { to, from },
      resumeCommand: `mirrorctl switchover --to ${to}${configFlag(options)} --yes`,
      // A switchover needs both hosts; once the old primary is gone, a failover finishes the job.
      whenLost: (host) =>
        host === from
          ? `${from} stopped answering during the switchover: finish it on ${to} with \`mirrorctl failover --to ${to}${configFlag(options)} --yes\` (done steps answer done), then run \`mirrorctl rejoin ${from}\` once ${from} is back`
          : null,
    };
  });
}
