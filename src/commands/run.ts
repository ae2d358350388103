import { loadInventory } from '../inventory/load.js';
import { actionInfo, actionRegistry } from '../actions/registry.js';
import { locatePlaybook } from '../playbook/locate.js';
import { loadPlaybook, parseSetOptions } from '../playbook/load.js';
import { executePlaybook } from './execute.js';
import { inventoryPath, type RunOptions } from './options.js';

/** `mirrorctl run PLAYBOOK`: any playbook, parameters from --set. */
export async function runCommand(playbook: string, options: RunOptions, commandLine: string): Promise<number> {
  const inventory = await loadInventory(inventoryPath(options));
  const file = await locatePlaybook(playbook, inventory.dir);
  const actions = actionRegistry();
  const loaded = await loadPlaybook(file, { inventory, actions: actionInfo(actions), set: parseSetOptions(options.set ?? []) });
  // Nothing is discovered for a playbook run by name: its target is what --set named as `to` (or `host`).
  const target = [loaded.params.to, loaded.params.host].find((v): v is string => typeof v === 'string' && v !== '') ?? null;
  return executePlaybook({ inventory, playbook: loaded, actions, target, options, commandLine });
}
