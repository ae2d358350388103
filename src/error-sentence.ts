/** What an error says to the operator: a MirrorError's one sentence (with what to do next), else its message. */
export function sentenceOf(error: unknown): string {
  if (error && typeof error === 'object' && 'sentence' in error && typeof error.sentence === 'string') return error.sentence;
  return error instanceof Error ? error.message : String(error);
}
