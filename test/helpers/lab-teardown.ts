// Takes the shared test lab down if it is up (the suite's global teardown calls this).
import { access } from 'node:fs/promises';
import { TEST_LAB_DIR } from './lab.js';

export async function teardownLab(): Promise<void> {
  if (!(await access(TEST_LAB_DIR).then(() => true, () => false))) return;
  const { labDownAt } = await import('../../src/lab/down.js');
  await labDownAt(TEST_LAB_DIR, () => undefined);
}
