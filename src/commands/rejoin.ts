import { BlockedError } from '../errors.js';
import { databasePair, describeRoles, requireDatabaseHost } from '../site/choose-target.js';
import type { RunOptions } from './options.js';
import { configFlag, runSiteCommand } from './site-run.js';

/** `mirrorctl rejoin HOST`: the returned old primary becomes a replica of the other member of the pair. */
export async function rejoinCommand(host: string, options: RunOptions, commandLine: string): Promise<number> {
  return runSiteCommand('rejoin', options, commandLine, (inventory, roles) => {
    requireDatabaseHost(inventory, host, 'rejoin');
    const [a, b] = databasePair(inventory);
    const primary = host === a ? b : a;
    if (!roles.primaries.includes(primary)) {
      throw new BlockedError(`rejoin ${host}: ${primary} is not a running primary (found ${describeRoles(roles)})`, {
        hint: `rejoin needs the other host of the pair as primary; promote it first (mirrorctl failover --to ${primary})`,
      });
    }
    if (roles.unreachable.includes(host)) {
      throw new BlockedError(`rejoin ${host}: the host does not answer (found ${describeRoles(roles)})`, { hint: 'bring it back online first' });
    }
    return { target: host, params: { host, primary }, resumeCommand: `mirrorctl rejoin ${host}${configFlag(options)} --yes` };
  });
}
