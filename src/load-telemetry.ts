/**
 * Loads cistern's OpenTelemetry instrumentation synchronously, so that the entry
 * point has no top-level `await` and CommonJS can `require('cistern')` (Node's
 * `require(esm)` refuses a graph with top-level await).
 *
 * `@opentelemetry/api` is an optional peer: when it is not installed this returns
 * undefined and pools run without telemetry. Any other failure to load the
 * telemetry module is a real bug and is thrown.
 *
 * Under Vitest the source tree has no `telemetry/index.js` for Node's `require`
 * to find, so vitest.config.ts swaps this module for test/support/load-telemetry.ts
 * (a static import of the same module); the packaging test runs this file as built.
 */
import { createRequire } from 'node:module';
import type { Pool } from './pool/pool.js';
import type { PoolInstrumentation } from './pool/types.js';
import type * as Telemetry from './telemetry/index.js';

/** What `createPool` hands the core: builds the telemetry for one pool. */
export type Instrumenter = (pool: Pool<any>) => PoolInstrumentation | undefined;

const require = createRequire(import.meta.url);

function hasOpenTelemetryApi(): boolean {
  try {
    require.resolve('@opentelemetry/api');
    return true;
  } catch {
    return false;
  }
}

/** `instrumentPool` from cistern/telemetry, or undefined when `@opentelemetry/api` is not installed. */
export function loadTelemetry(): Instrumenter | undefined {
  if (!hasOpenTelemetryApi()) return undefined;
  let telemetry: typeof Telemetry;
  try {
    telemetry = require('./telemetry/index.js') as typeof Telemetry;
  } catch (error) {
    // Node before 20.19 / 22.12 cannot require an ES module: the pool still works, untraced.
    if ((error as { code?: unknown }).code === 'ERR_REQUIRE_ESM') {
      process.emitWarning(
        `cistern: telemetry is off because this Node (${process.version}) cannot require(esm); use Node ^20.19.0 or >=22.12.0`,
        { code: 'CISTERN_TELEMETRY_UNAVAILABLE' },
      );
      return undefined;
    }
    throw error;
  }
  // tsc checks instrumentPool against the contract the core calls.
  const instrumenter: Instrumenter = telemetry.instrumentPool;
  return instrumenter;
}
