import type { Inventory } from '../inventory/schema.js';

/**
 * The host whose SSH connection carries HTTP requests to the site (spec 10), or null for the
 * control machine: the run's target (else the first portable IP host) when it is reached
 * through a jump host, or when the control machine has no route to the URL's address.
 */
export async function httpCarrier(inventory: Inventory, to: unknown, url: string): Promise<string | null> {
  const candidates = typeof to === 'string' && inventory.hosts.has(to) ? [to] : (inventory.doc.portable_ip?.hosts ?? inventory.doc.database?.hosts ?? []);
  const host = candidates.find((name) => !inventory.hosts.get(name)?.local);
  if (!host) return null;
  if ((inventory.hosts.get(host)?.ssh.jumpHosts.length ?? 0) > 0) return host;
  const { noRouteTo } = await import('./http-status.js');
  return (await noRouteTo(new URL(url).hostname)) ? host : null;
}
