import { AbortedError } from '../errors.js';

/** Asks on the terminal (stderr) for `expected` to be typed; true only for exactly that text. */
export async function confirmByTyping(message: string, expected: string): Promise<boolean> {
  const { input } = await import('@inquirer/prompts');
  try {
    const typed = await input({ message: `${message}\nType ${expected} to go ahead, anything else to keep them:` }, { output: process.stderr, input: process.stdin });
    return typed.trim() === expected;
  } catch (error) {
    if ((error as Error).name === 'ExitPromptError' || (error as Error).name === 'AbortPromptError') throw new AbortedError('interrupted at the confirmation prompt; no lock was removed');
    throw error;
  }
}
