import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/support/setup.ts'],
    // one PostgreSQL initdb template per run for the topology harness (test/support/pg-cluster.ts)
    globalSetup: ['test/support/topology-global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // integration suites share real servers; keep files from fighting over them
    fileParallelism: false,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
