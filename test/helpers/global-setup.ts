// Global set-up: builds dist/ so CLI tests spawn compiled JavaScript. Type errors
// are reported but do not stop the build here (tsc still emits); `npm test`
// type-checks strictly before vitest starts. The lab is brought up lazily by the
// tests that need it (test/helpers/lab.ts) and taken down at the end.
import { spawnSync } from 'node:child_process';

export async function setup(): Promise<void> {
  // Workers inherit it: lets the teardown tell the lab this run used from one another run uses.
  process.env.MIRRORCTL_TEST_RUN = `${process.pid}-${Date.now()}`;
  const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { encoding: 'utf8' });
  if (build.status !== 0) process.stderr.write(`global-setup: tsc reported errors (dist/ built anyway):\n${build.stdout}${build.stderr}`);
}

export async function teardown(): Promise<void> {
  const teardownLab = (await import('./lab-teardown.js').catch(() => null))?.teardownLab;
  if (teardownLab) await teardownLab();
}
