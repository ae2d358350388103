// Global set-up for the whole suite: builds dist/ once so CLI tests spawn compiled JavaScript.
// The lab is brought up lazily by the tests that need it (test/helpers/lab.ts) and taken down here.
import { execFileSync } from 'node:child_process';

export async function setup(): Promise<void> {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
}

export async function teardown(): Promise<void> {
  const teardownLab = (await import('./lab-teardown.js').catch(() => null))?.teardownLab;
  if (teardownLab) await teardownLab();
}
