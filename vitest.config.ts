import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

/**
 * `CISTERN_TEST_POSTGRES=3` runs the suites against postgres.js 3.x: every
 * `import ... from 'postgres'` (in src/ and in the tests) then loads the
 * `postgres3` devDependency (`npm:postgres@3.x`). Unset (or 4): postgres.js 4.
 * test/integration/postgres-major.test.ts asserts which major was really loaded.
 */
const postgresMajor = process.env.CISTERN_TEST_POSTGRES ?? '4';
if (postgresMajor !== '3' && postgresMajor !== '4') {
  throw new Error(`CISTERN_TEST_POSTGRES must be 3 or 4 (postgres.js major), got '${postgresMajor}'`);
}

export default defineConfig({
  resolve: {
    alias: [
      // Node's require cannot load the TypeScript source: tests get telemetry through Vite instead.
      { find: /^\.\/load-telemetry\.js$/, replacement: here('./test/support/load-telemetry.ts') },
      ...(postgresMajor === '3' ? [{ find: /^postgres$/, replacement: 'postgres3' }] : []),
    ],
  },
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
