import { ConfigError } from '../errors.js';
import type { Inventory } from '../inventory/schema.js';
import type { EarlierStep, StepContext } from './types.js';

// What the postgres.* actions share: the pair's other host, addresses, and what earlier steps will have done.

/** The other member of `database.hosts` (a site is a pair). */
export function otherDatabaseHost(inventory: Inventory, host: string): string | null {
  const hosts = inventory.doc.database?.hosts ?? [];
  if (!hosts.includes(host)) return null;
  return hosts.find((h) => h !== host) ?? null;
}

/** The address other hosts use to reach `host` (its inventory `address`). */
export function addressOf(inventory: Inventory, host: string): string {
  const address = inventory.hosts.get(host)?.address;
  if (!address) throw new ConfigError(`host ${host} has no address in ${inventory.file}`, { hint: 'the database hosts need addresses to replicate from each other' });
  return address;
}

/** In the plan phase, an earlier step of this run that runs `action` on `host`. */
export function earlierStepOn(ctx: StepContext, action: string, host: string): EarlierStep | undefined {
  if (ctx.phase !== 'plan') return undefined;
  return ctx.earlier.find((step) => step.action === action && step.host === host);
}
