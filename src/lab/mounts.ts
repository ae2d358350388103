import { readFile } from 'node:fs/promises';

// Reading /proc/self/mountinfo: which mount points exist on the control machine.

function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** Mount points of the calling process's mount namespace, innermost last. */
export async function mountPoints(): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => unescape(line.split(' ')[4] ?? ''));
}

/** Mount points at `dir` or below it. */
export async function mountsUnder(dir: string): Promise<string[]> {
  return (await mountPoints()).filter((point) => point === dir || point.startsWith(`${dir}/`));
}
