import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { listPlaybooks } from '../playbook/locate.js';
import { inventoryPath, type CommonOptions } from './options.js';

/** `mirrorctl playbooks`: every playbook with its one-line summary. */
export async function playbooksCommand(options: CommonOptions): Promise<number> {
  const file = inventoryPath(options);
  const list = await listPlaybooks(existsSync(file) ? dirname(file) : null);
  if (options.json) {
    process.stdout.write(JSON.stringify(list) + '\n');
    return 0;
  }
  const width = Math.max(...list.map((p) => p.name.length), 8);
  for (const p of list) process.stdout.write(`${p.name.padEnd(width)}  ${p.summary}\n`);
  return 0;
}
