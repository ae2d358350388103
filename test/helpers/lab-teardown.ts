// Takes the shared test lab down if it is up (the suite's global teardown calls this).
import { access } from 'node:fs/promises';
import { TEST_LAB_DIR } from './lab.js';

export async function teardownLab(): Promise<void> {
  // Only a lab this run used: another run (a second checkout, CI) may be using it right now.
  const run = process.env.MIRRORCTL_TEST_RUN;
  if (!run || !(await access(`${TEST_LAB_DIR}/.used-by-test-run-${run}`).then(() => true, () => false))) return;
  const { labDownAt } = await import('../../src/lab/down.js');
  await labDownAt(TEST_LAB_DIR, () => undefined);
}
