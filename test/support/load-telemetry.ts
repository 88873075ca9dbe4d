/**
 * Stands in for src/load-telemetry.ts under Vitest (see the alias in
 * vitest.config.ts): Node's `require` cannot load the TypeScript source, so the
 * tests get the same `instrumentPool` through Vite's module graph, one instance
 * shared with the test files. The real loader is exercised on the built package
 * by test/integration/packaging.test.ts.
 */
import type { Instrumenter } from '../../src/load-telemetry.js';
import { instrumentPool } from '../../src/telemetry/index.js';

export type { Instrumenter };

export function loadTelemetry(): Instrumenter | undefined {
  const instrumenter: Instrumenter = instrumentPool;
  return instrumenter;
}
