import { describe, expect, it } from 'vitest';
import { alternate, longestGap, median, pairRatios, summarize } from './measure.js';

describe('bench statistics', () => {
  it('median of odd and even counts, unsorted input', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(median([])).toBeNaN();
  });

  it('summarize ignores non-finite samples and gives null for none', () => {
    expect(summarize([3, 1, Number.NaN, 2, 10])).toEqual({ n: 4, median: 2.5, min: 1, max: 10 });
    expect(summarize([Number.POSITIVE_INFINITY])).toBeNull();
    expect(summarize([])).toBeNull();
  });

  it('ratios are taken pair by pair, skipping pairs with a missing side', () => {
    expect(pairRatios([10, 20, 30], [5, 10, 10])).toEqual([2, 2, 3]);
    expect(pairRatios([10, null, 30, 8], [5, 4, null, 0])).toEqual([2]);
    expect(pairRatios([1, 2, 3], [1])).toEqual([1]);
  });

  it('longest gap between consecutive times, in any order', () => {
    expect(longestGap([0, 5, 10, 400, 405])).toEqual({ gap: 390, from: 10 });
    expect(longestGap([405, 0, 400, 10, 5])).toEqual({ gap: 390, from: 10 });
    expect(longestGap([3])).toEqual({ gap: 0, from: null });
    expect(longestGap([])).toEqual({ gap: 0, from: null });
  });

  it('alternate runs variants in turn and groups results per variant', async () => {
    const order: string[] = [];
    const results = await alternate(3, [
      async (round) => (order.push(`A${round}`), round),
      async (round) => (order.push(`B${round}`), round * 10),
    ]);
    expect(order).toEqual(['A0', 'B0', 'A1', 'B1', 'A2', 'B2']);
    expect(results).toEqual([[0, 1, 2], [0, 10, 20]]);
  });
});
