import { describe, expect, it } from 'vitest';
import { formatLsn, lsnDiff, parseLsn } from '../../src/site/lsn.js';

describe('WAL locations', () => {
  it('parses and formats PostgreSQL LSNs both ways', () => {
    expect(parseLsn('0/3000060')).toBe(0x3000060n);
    expect(parseLsn('16/B374D848')).toBe((0x16n << 32n) | 0xb374d848n);
    expect(parseLsn('16/b374d848')).toBe(parseLsn('16/B374D848'));
    expect(formatLsn(parseLsn('16/B374D848'))).toBe('16/B374D848');
    expect(formatLsn(0n)).toBe('0/0');
    expect(formatLsn(0xffffffffffffffffn)).toBe('FFFFFFFF/FFFFFFFF');
  });

  it('subtracts across the 32-bit boundary', () => {
    expect(lsnDiff('1/0', '0/FFFFFFFF')).toBe(1n);
    expect(lsnDiff('0/3000060', '0/3000000')).toBe(0x60n);
    expect(lsnDiff('0/3000000', '0/3000060')).toBe(-0x60n);
  });

  it('refuses what is not an LSN', () => {
    for (const bad of ['', '0', '0/', '/1', 'x/1', '0/123456789', '<steps.stop-old.lsn>']) {
      expect(() => parseLsn(bad), bad).toThrow(/not a WAL location/);
    }
    expect(() => formatLsn(-1n)).toThrow();
  });
});
