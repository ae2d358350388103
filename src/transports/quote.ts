// POSIX shell quoting: every interpolated argument goes through `quote`.

/** Quotes one argument so any shell passes it through as literal data. */
export function quote(argument: string | number): string {
  const text = String(argument);
  if (text !== '' && /^[A-Za-z0-9_\-.,:/@%+=]+$/.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Joins a command and its arguments, quoting each. */
export function command(...argv: Array<string | number>): string {
  return argv.map(quote).join(' ');
}

/** Tagged template: `sh\`rm -f ${path}\`` quotes every interpolated value. */
export function sh(strings: TemplateStringsArray, ...values: Array<string | number>): string {
  return strings.reduce((out, part, i) => out + part + (i < values.length ? quote(values[i]!) : ''), '');
}
