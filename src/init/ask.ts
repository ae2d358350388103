// Questions on the terminal (stderr, never stdout) through @inquirer/prompts, loaded
// only when init asks something. Ctrl-C or Esc at any question: exit 130, nothing written.
import { AbortedError } from '../errors.js';

export interface Asker {
  text(message: string, options?: { default?: string; required?: boolean; validate?: (value: string) => string | true }): Promise<string>;
  yesNo(message: string, defaultYes: boolean): Promise<boolean>;
  choose(message: string, choices: Array<{ name: string; value: string }>): Promise<string>;
}

async function asked<T>(question: () => Promise<T>): Promise<T> {
  try {
    return await question();
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'ExitPromptError' || name === 'AbortPromptError') throw new AbortedError('interrupted at a question; nothing was written');
    throw error;
  }
}

/** The terminal asker used by `mirrorctl init` without --yes. */
export function terminalAsker(): Asker {
  const context = { output: process.stderr, input: process.stdin };
  return {
    async text(message, options = {}) {
      const { input } = await import('@inquirer/prompts');
      const answer = await asked(() =>
        input(
          {
            message,
            default: options.default,
            validate: (value: string) => {
              if (options.required && value.trim() === '') return 'an answer is needed';
              return value.trim() === '' ? true : (options.validate?.(value.trim()) ?? true);
            },
          },
          context,
        ),
      );
      return answer.trim();
    },
    async yesNo(message, defaultYes) {
      const { confirm } = await import('@inquirer/prompts');
      return asked(() => confirm({ message, default: defaultYes }, context));
    },
    async choose(message, choices) {
      const { select } = await import('@inquirer/prompts');
      return asked(() => select({ message, choices }, context));
    },
  };
}
