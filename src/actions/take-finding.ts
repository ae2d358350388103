import type { CheckResult } from './types.js';

const taken = new WeakSet<object>();

/**
 * The check's finding for apply's first attempt; undefined on a retry (the engine hands
 * every attempt the same check, and after a failed attempt the site may have changed:
 * apply asks again).
 */
export function takeFinding<F extends object>(check: CheckResult<F>): F | undefined {
  const finding = check.finding;
  if (finding === undefined || taken.has(finding)) return undefined;
  taken.add(finding);
  return finding;
}
