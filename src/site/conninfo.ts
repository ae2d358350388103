/** A libpq connection-string value, single-quoted (with \\ and \' escaped) unless it is a plain word. */
export function conninfoValue(value: string): string {
  return /^[A-Za-z0-9_.\-/]+$/.test(value) ? value : `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
