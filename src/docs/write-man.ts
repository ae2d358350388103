// `npm run build` runs this: man/mirrorctl.1 from the program, the one source of --help too.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { currentManPage, MAN_PAGE_FILE } from './current-man-page.js';

await mkdir(path.dirname(MAN_PAGE_FILE), { recursive: true });
await writeFile(MAN_PAGE_FILE, currentManPage());
process.stdout.write(`wrote ${MAN_PAGE_FILE}\n`);
