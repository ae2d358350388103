// The statistics every bench row reports: median/min/max over samples, ratios taken
// pair by pair (A and B measured back to back), the longest gap in a series of times,
// and running variants in alternation (A, B, A, B, ...) so noise hits both alike.

export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
}

/** Median of the values (mean of the two middle ones for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Median, min and max of the finite values; null when there is none. */
export function summarize(values: readonly number[]): Summary | null {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return null;
  return { n: finite.length, median: median(finite), min: Math.min(...finite), max: Math.max(...finite) };
}

/** a[i] / b[i] for every pair where both were measured (a missing or zero b skips the pair). */
export function pairRatios(a: readonly (number | null)[], b: readonly (number | null)[]): number[] {
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i += 1) {
    const x = a[i];
    const y = b[i];
    if (x == null || y == null || !Number.isFinite(x) || !Number.isFinite(y) || y === 0) continue;
    ratios.push(x / y);
  }
  return ratios;
}

/** The longest interval between two consecutive times (any order given); 0 with fewer than two. */
export function longestGap(times: readonly number[]): { gap: number; from: number | null } {
  const sorted = [...times].sort((a, b) => a - b);
  let gap = 0;
  let from: number | null = null;
  for (let i = 1; i < sorted.length; i += 1) {
    const d = sorted[i]! - sorted[i - 1]!;
    if (d > gap) {
      gap = d;
      from = sorted[i - 1]!;
    }
  }
  return { gap, from };
}

/** Runs `rounds` rounds of every variant in turn (A, B, C, A, B, C, ...); results per variant, in round order. */
export async function alternate<T>(rounds: number, variants: readonly ((round: number) => Promise<T>)[]): Promise<T[][]> {
  const results: T[][] = variants.map(() => []);
  for (let round = 0; round < rounds; round += 1) {
    for (const [i, variant] of variants.entries()) results[i]!.push(await variant(round));
  }
  return results;
}
