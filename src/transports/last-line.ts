/** The last non-empty line of a command's output, trimmed (what a failing tool says last). */
export function lastLine(text: string): string {
  return text.trim().split('\n').filter(Boolean).at(-1)?.trim() ?? '';
}
