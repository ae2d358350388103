import { processSecrets } from '../reporters/mask.js';
import type { HostEntry, InventoryDocument } from './schema.js';

// The inventory names its secrets by environment variable (`*_env`); their values are
// masked in everything mirrorctl prints or records, from the moment the inventory is read.

// Names of the environment variables holding this inventory's secrets.
export function secretEnvNames(doc: InventoryDocument, hosts: ReadonlyMap<string, HostEntry>): string[] {
  const names = new Set<string>();
  if (doc.database?.password_env) names.add(doc.database.password_env);
  for (const host of hosts.values()) if (host.ssh.passphraseEnv) names.add(host.ssh.passphraseEnv);
  return [...names];
}

// Adds the values of those variables to the process's secret mask.
export function maskInventorySecrets(doc: InventoryDocument, hosts: ReadonlyMap<string, HostEntry>): void {
  for (const name of secretEnvNames(doc, hosts)) processSecrets.add(process.env[name]);
}
