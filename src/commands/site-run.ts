import { loadInventory } from '../inventory/load.js';
import { locatePlaybook } from '../playbook/locate.js';
import { HostPool } from '../transports/pool.js';
import type { Inventory } from '../inventory/schema.js';
import { discoverRoles, type SiteRoles } from '../site/roles.js';
import { executePlaybook } from './execute.js';
import { inventoryPath, type RunOptions } from './options.js';

export interface SiteRunPlan {
  playbook: string;
  params: Record<string, string | undefined>;
  resumeCommand: string;
}

/**
 * failover, switchover and rejoin: discover the roles (all database hosts in
 * parallel, on the connections the run then reuses), choose the hosts, run the
 * bundled playbook.
 */
export async function runSiteCommand(
  options: RunOptions,
  commandLine: string,
  choose: (inventory: Inventory, roles: SiteRoles) => SiteRunPlan,
): Promise<number> {
  const inventory = await loadInventory(inventoryPath(options));
  const pool = new HostPool(inventory);
  try {
    const roles = await discoverRoles(pool, inventory);
    const plan = choose(inventory, roles);
    const file = await locatePlaybook(plan.playbook, inventory.dir);
    return await executePlaybook({ inventory, playbookFile: file, params: plan.params, options, commandLine, resumeCommand: plan.resumeCommand, pool });
  } finally {
    await pool.closeAll();
  }
}

/** "-c FILE" when the operator gave one, so the resume line works as typed. */
export function configFlag(options: RunOptions): string {
  return options.config ? ` -c ${options.config}` : '';
}
