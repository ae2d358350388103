import path from 'node:path';
import { checkCommandProblems } from './check-commands.js';
import { applyInventoryDefaults, crossCheckInventory } from './cross-check.js';
import { buildHosts } from './hosts.js';
import { readYamlSource } from './positions.js';
import { problemsError, problemsFromZod, throwProblems } from './problems.js';
import { inventorySchema, type Inventory } from './schema.js';
import { maskInventorySecrets } from './secrets.js';
import { applySshConfig } from './ssh-config-hosts.js';

const FORMAT_HINT = 'see the inventory format in README.md';

// Reads, validates and resolves the inventory; any problem is a ConfigError naming file, key path and line.
export async function loadInventory(file: string): Promise<Inventory> {
  const source = await readYamlSource(file, {
    what: 'inventory',
    missingHint: 'pass -c FILE or set $MIRRORCTL_CONFIG (the default is ./mirrorctl.yaml)',
  });
  const parsed = inventorySchema.safeParse(source.data);
  if (!parsed.success) throw problemsError(source, problemsFromZod(parsed.error, source.data, inventorySchema), FORMAT_HINT);
  throwProblems(source, [...crossCheckInventory(parsed.data), ...checkCommandProblems(parsed.data)], FORMAT_HINT);
  const doc = applyInventoryDefaults(parsed.data);
  const dir = path.dirname(path.resolve(file));
  const hosts = await applySshConfig(doc, buildHosts(doc, dir), dir, (problem) => {
    throw problemsError(source, [problem], FORMAT_HINT);
  });
  // From here on, whatever fails, its secrets are masked in every message.
  maskInventorySecrets(doc, hosts);
  return {
    file,
    dir,
    doc,
    site: doc.site,
    hosts,
    lineOf: (keyPath) => source.lineOf(keyPath),
  };
}
