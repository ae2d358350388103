// Text that came from a file or a host may hold terminal control sequences (`\x1b[31m`, `\r`,
// bidirectional overrides): it is shown escaped, so a hostile file cannot paint or rewrite the terminal.

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

// `text` with every control character written as an escape (`\x1b`, `\r`, `\u202e`); newlines kept when asked.
export function printable(text: string, options: { keepNewlines?: boolean } = {}): string {
  return text.replace(CONTROL, (c) => {
    if (c === '\n' && options.keepNewlines) return c;
    const code = c.charCodeAt(0);
    return NAMED[c] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
  });
}
