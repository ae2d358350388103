/** An error's own message (for anything thrown, not only Error). */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What an error says to the operator: a MirrorError's one sentence (with what to do next), else its message. */
export function sentenceOf(error: unknown): string {
  if (error && typeof error === 'object' && 'sentence' in error && typeof error.sentence === 'string') return error.sentence;
  return messageOf(error);
}
