import { loadInventory } from '../inventory/load.js';
import { locatePlaybook } from '../playbook/locate.js';
import { bindParams, parseSetOptions, readPlaybook } from '../playbook/load.js';
import { actionInfo, actionRegistry } from '../actions/registry.js';
import { HostPool } from '../transports/pool.js';
import type { Inventory } from '../inventory/schema.js';
import { discoverRoles, type SiteRoles } from '../site/roles.js';
import { refuseDiscoveredSets, type SiteCommand } from './discovered-params.js';
import { executePlaybook } from './execute.js';
import { inventoryPath, type RunOptions } from './options.js';

export interface SiteRunPlan {
  /** The host the run makes the site's home (switchover/failover: --to or the replica; rejoin: the host). */
  target: string;
  params: Record<string, string | undefined>;
  resumeCommand: string;
  /** What to do when a host stops answering mid-run, when resuming the same command would not complete. */
  whenLost?: (host: string) => string | null;
}

/**
 * failover, switchover and rejoin: discover the roles (all database hosts in
 * parallel, on the connections the run then reuses), choose the hosts, run the
 * bundled playbook.
 */
export async function runSiteCommand(
  playbook: SiteCommand,
  options: RunOptions,
  commandLine: string,
  choose: (inventory: Inventory, roles: SiteRoles) => SiteRunPlan,
): Promise<number> {
  // A --set of what the command discovers is a usage error, found before anything is read or contacted.
  const set = parseSetOptions(options.set ?? []);
  refuseDiscoveredSets(playbook, set);
  const inventory = await loadInventory(inventoryPath(options));
  // --probe/--report without a URL to probe is a usage error, found before any host is contacted.
  if (options.probe || options.report) (await import('../probe/settings.js')).probeSettings(inventory);
  // The playbook and the --set values are read and checked once, before any host is contacted.
  const file = await locatePlaybook(playbook, inventory.dir);
  const actions = actionRegistry();
  const checked = await readPlaybook(file, { inventory, actions: actionInfo(actions), set });
  const pool = new HostPool(inventory);
  try {
    const roles = await discoverRoles(pool, inventory);
    const plan = choose(inventory, roles);
    return await executePlaybook({
      inventory,
      playbook: bindParams(checked, plan.params),
      actions,
      target: plan.target,
      options,
      commandLine,
      resumeCommand: plan.resumeCommand,
      whenLost: plan.whenLost ?? null,
      pool,
    });
  } finally {
    await pool.closeAll();
  }
}

/** "-c FILE" when the operator gave one, so the resume line works as typed. */
export function configFlag(options: RunOptions): string {
  return options.config ? ` -c ${options.config}` : '';
}
