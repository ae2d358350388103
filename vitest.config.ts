import { defineConfig } from 'vitest/config';

// Integration tests share one lab (real namespaces, sshd, PostgreSQL, memcached),
// so test files run one after another. Unit tests are fast enough not to care.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 300_000,
    globalSetup: ['test/helpers/global-setup.ts'],
    reporters: ['default'],
  },
});
