import { AbortedError } from '../errors.js';
import type { Prompter } from '../engine/context.js';

/** Confirmation prompts on the terminal through stderr (never stdout); default No. */
export function terminalPrompter(signal?: AbortSignal): Prompter {
  return {
    async confirm(message: string): Promise<boolean> {
      const { confirm } = await import('@inquirer/prompts');
      try {
        return await confirm({ message, default: false }, { output: process.stderr, input: process.stdin, signal });
      } catch (error) {
        if ((error as Error).name === 'ExitPromptError' || (error as Error).name === 'AbortPromptError') throw new AbortedError('interrupted at the confirmation prompt; nothing was changed');
        throw error;
      }
    },
  };
}
