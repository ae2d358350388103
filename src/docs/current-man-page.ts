import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { buildProgram, common, runOptions, version } from '../cli.js';
import { manPage } from './man-page.js';

/** Where the shipped page lives (package.json "man"). */
export const MAN_PAGE_FILE = fileURLToPath(new URL('../../man/mirrorctl.1', import.meta.url));

/** The page as the current program describes it. */
export function currentManPage(): string {
  const commonOnly = new Command('x');
  common(commonOnly);
  const runOnly = new Command('x');
  runOptions(runOnly);
  return manPage({
    program: buildProgram(),
    version: version(),
    commonFlags: new Set(commonOnly.options.map((o) => o.flags)),
    runFlags: new Set(runOnly.options.map((o) => o.flags)),
    commonOptions: commonOnly.options,
    runOptions: runOnly.options,
  });
}
