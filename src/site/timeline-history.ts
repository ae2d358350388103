import type { Inventory } from '../inventory/schema.js';
import type { HostPool } from '../transports/pool.js';
import { pgQuery } from './postgres.js';

/** One line of a timeline history file: timeline `parent` ended at `switchpoint` (where the next began). */
export interface TimelineSwitch {
  parent: number;
  switchpoint: string;
}

/** The history file of `timeline` on a primary (pg_wal/0000000N.history), read as database.user (a superuser). */
export async function timelineHistory(pool: HostPool, inventory: Inventory, host: string, timeline: number): Promise<TimelineSwitch[]> {
  if (timeline <= 1) return [];
  const name = `pg_wal/${timeline.toString(16).toUpperCase().padStart(8, '0')}.history`;
  const rows = await pgQuery<{ text: string }>(pool, inventory, host, 'SELECT pg_read_file($1) AS text', [name]);
  return parseTimelineHistory(rows[0]?.text ?? '');
}

/** Parses `parentTLI <tab> switchpoint <tab> reason` lines; comments and blank lines are skipped. */
export function parseTimelineHistory(text: string): TimelineSwitch[] {
  const switches: TimelineSwitch[] = [];
  for (const line of text.split('\n')) {
    const match = /^\s*(\d+)\s+([0-9A-Fa-f]+\/[0-9A-Fa-f]+)/.exec(line);
    if (match) switches.push({ parent: Number(match[1]), switchpoint: match[2]!.toUpperCase() });
  }
  return switches;
}
