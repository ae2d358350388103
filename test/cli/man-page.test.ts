// The shipped man page: `man -l` renders it, it is what the program generates now
// (so it cannot drift), and every option `--help` lists for every command is in it.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { currentManPage } from '../../src/docs/current-man-page.js';
import { BIN } from '../helpers/cli.js';

const PAGE = fileURLToPath(new URL('../../man/mirrorctl.1', import.meta.url));

/** The page as `man -l` shows it, wide enough that no option line is wrapped. */
function rendered(): string {
  const r = spawnSync('man', ['-l', PAGE], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '250', MANPAGER: 'cat', PAGER: 'cat' } });
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  return r.stdout.replace(/.\x08/g, '');
}

function help(args: string[]): string {
  const r = spawnSync(process.execPath, [BIN, ...args, '--help'], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  return r.stdout;
}

/** The entries of a `--help` section ("Options:", "Commands:"): the first word(s) of each entry line. */
function entries(helpText: string, section: 'Options' | 'Commands'): string[] {
  const block = helpText.split(/\n(?=\S)/).find((b) => b.startsWith(`${section}:`)) ?? '';
  return block
    .split('\n')
    .slice(1)
    .filter((l) => /^ {2}\S/.test(l))
    .map((l) => l.trim().split(/\s{2,}/)[0]!);
}

/** Every command path `--help` shows, subcommands included (`lab up`), without `help`. */
function commandPaths(prefix: string[] = []): string[][] {
  const names = entries(help(prefix), 'Commands').map((e) => e.split(' ')[0]!).filter((n) => n !== 'help');
  return names.flatMap((name) => {
    const path = [...prefix, name];
    return entries(help(path), 'Commands').length > 0 ? commandPaths(path) : [path];
  });
}

describe('man mirrorctl', () => {
  it('man -l renders it: name, synopsis, every section', () => {
    const text = rendered();
    expect(text).toMatch(/^NAME\n\s+mirrorctl - move a site between its primary host and its mirror, safely$/m);
    for (const section of ['SYNOPSIS', 'DESCRIPTION', 'COMMANDS', 'COMMON OPTIONS', 'RUN OPTIONS', 'EXIT STATUS', 'ENVIRONMENT', 'FILES', 'EXAMPLES', 'SEE ALSO']) {
      expect(text).toMatch(new RegExp(`^${section}$`, 'm'));
    }
    expect(text).toMatch(/^\s+5\s+init only: the inventory was written with placeholders/m);
  });

  it('is the page the program generates now (npm run build regenerates it)', () => {
    expect(readFileSync(PAGE, 'utf8')).toBe(currentManPage());
  });

  it('every option --help lists for every command is in that command\'s part of the page, or in COMMON/RUN OPTIONS', () => {
    const text = rendered();
    const common = text.slice(text.indexOf('\nCOMMON OPTIONS\n'), text.indexOf('\nEXIT STATUS\n'));
    const paths = commandPaths();
    expect(paths.map((p) => p.join(' '))).toEqual(expect.arrayContaining(['init', 'completion', 'switchover', 'lab up', 'lab down']));
    const missing: string[] = [];
    for (const path of paths) {
      const heading = `\n   mirrorctl ${path.join(' ')}\n`;
      const start = text.indexOf(heading);
      if (start < 0) {
        missing.push(`the command ${path.join(' ')}`);
        continue;
      }
      const end = text.slice(start + heading.length).search(/\n {3}\S|\n\S/);
      const section = text.slice(start, start + heading.length + end);
      for (const entry of entries(help(path), 'Options')) {
        for (const flag of entry.split(/,\s*|\s+/).filter((f) => f.startsWith('-'))) {
          const line = new RegExp(`^\\s+(?:-\\S+, )?${flag.replace(/[-]/g, '\\-')}\\b`, 'm');
          if (!line.test(section) && !line.test(common)) missing.push(`${path.join(' ')} ${flag}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('package.json ships it', () => {
    const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8'));
    expect(pkg.man).toEqual(['./man/mirrorctl.1']);
    expect(pkg.files).toContain('man');
  });
});
