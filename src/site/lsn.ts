// PostgreSQL WAL locations ("16/B374D848": high and low 32 bits in hex) as bigints.

const LSN = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

/** "16/B374D848" → the byte position in the WAL; throws on anything else. */
export function parseLsn(text: string): bigint {
  const match = LSN.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not a WAL location (like 16/B374D848)`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

/** A byte position in the WAL → "16/B374D848" (PostgreSQL's own spelling). */
export function formatLsn(value: bigint): string {
  if (value < 0n || value > 0xffffffffffffffffn) throw new Error(`${value} is not a WAL location`);
  const high = (value >> 32n).toString(16).toUpperCase();
  const low = (value & 0xffffffffn).toString(16).toUpperCase();
  return `${high}/${low}`;
}

/** Bytes from `b` to `a` (a − b), negative when `a` is behind. */
export function lsnDiff(a: string, b: string): bigint {
  return parseLsn(a) - parseLsn(b);
}
