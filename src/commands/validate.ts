import { loadInventory } from '../inventory/load.js';
import { listPlaybooks, locatePlaybook } from '../playbook/locate.js';
import { loadPlaybook } from '../playbook/load.js';
import { actionInfo, actionRegistry } from '../actions/registry.js';
import { printable } from '../reporters/printable.js';
import { inventoryPath, type CommonOptions } from './options.js';

/** `mirrorctl validate [PLAYBOOK]`: inventory and playbooks, offline; no host is contacted. */
export async function validateCommand(playbook: string | undefined, options: CommonOptions): Promise<number> {
  const inventory = await loadInventory(inventoryPath(options));
  const info = actionInfo(actionRegistry());
  const files = playbook
    ? [await locatePlaybook(playbook, inventory.dir)]
    : (await listPlaybooks(inventory.dir)).map((p) => p.file);
  const checked: Array<{ file: string; name: string; steps: number }> = [];
  for (const file of files) {
    // Discovery fills to/from/host at run time: required parameters are not demanded here.
    const loaded = await loadPlaybook(file, { inventory, actions: info, validateOnly: true });
    checked.push({ file, name: loaded.name, steps: loaded.steps.length });
  }
  if (options.json) {
    process.stdout.write(JSON.stringify({ inventory: inventory.file, site: inventory.site, playbooks: checked, ok: true }) + '\n');
  } else {
    process.stdout.write(`ok  ${inventory.file} (site ${inventory.site}, ${inventory.hosts.size} hosts)\n`);
    for (const c of checked) process.stdout.write(`ok  ${c.file} (${printable(c.name)}, ${c.steps} steps)\n`);
  }
  return 0;
}
