import { loadInventory } from '../inventory/load.js';
import { HostPool } from '../transports/pool.js';
import { siteStatus, type SiteStatus } from '../site/site-status.js';
import { inventoryPath, wantsColor, type CommonOptions } from './options.js';

/** `mirrorctl status [--json]`: who serves the site, roles, lag, sessions, cache; exit 0 whatever the state. */
export async function statusCommand(options: CommonOptions): Promise<number> {
  const inventory = await loadInventory(inventoryPath(options));
  const pool = new HostPool(inventory);
  try {
    const status = await siteStatus(pool, inventory);
    if (options.json) process.stdout.write(JSON.stringify(status) + '\n');
    else process.stdout.write(await render(status, options));
    return 0;
  } finally {
    await pool.closeAll();
  }
}

async function render(s: SiteStatus, options: CommonOptions): Promise<string> {
  const { Chalk } = await import('chalk');
  const c = new Chalk({ level: wantsColor(options, 1) ? 1 : 0 });
  const lines = [c.bold(`site ${s.site}: served by ${s.served_by ?? c.red(nobody(s))}`)];
  for (const h of s.hosts) {
    if (!h.reachable) {
      lines.push(`  ${h.name.padEnd(10)} ${c.red('unreachable')}`);
      continue;
    }
    const lag = h.db.lag_bytes === null ? '' : ` (lag ${h.db.lag_bytes} bytes)`;
    const ip = h.holds_ip ? c.green('holds IP') : 'no IP   ';
    lines.push(`  ${h.name.padEnd(10)} ${ip}  db ${h.db.role}${lag}  sessions ${h.sessions}`);
  }
  for (const m of s.memcached) lines.push(`  memcached ${m.server.padEnd(21)} ${m.up ? `up, ${m.items} items` : c.red('down')}`);
  for (const w of s.warnings) lines.push(c.yellow(`warning: ${w}`));
  return lines.join('\n') + '\n';
}

/** Who serves a site with no single holder of the IP: nobody, or nobody that answers (a silent host may hold it). */
function nobody(s: SiteStatus): string {
  const silent = s.hosts.filter((h) => !h.reachable).map((h) => h.name);
  if (silent.length === 0 || s.hosts.some((h) => h.holds_ip)) return 'nobody (no single holder of the portable IP)';
  return `no host that answers (${silent.join(', ')} ${silent.length === 1 ? 'does' : 'do'} not answer and may hold the portable IP)`;
}
