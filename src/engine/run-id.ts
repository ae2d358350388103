import { randomBytes } from 'node:crypto';

/** Sortable, unique run id: 20261125T061502Z-3fa9c2. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}
