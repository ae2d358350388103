import { loadInventory } from '../inventory/load.js';
import { locatePlaybook } from '../playbook/locate.js';
import { executePlaybook } from './execute.js';
import { inventoryPath, type RunOptions } from './options.js';

/** `mirrorctl run PLAYBOOK`: any playbook, parameters from --set. */
export async function runCommand(playbook: string, options: RunOptions, commandLine: string): Promise<number> {
  const inventory = await loadInventory(inventoryPath(options));
  const file = await locatePlaybook(playbook, inventory.dir);
  return executePlaybook({ inventory, playbookFile: file, options, commandLine });
}
