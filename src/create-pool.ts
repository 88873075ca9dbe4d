/**
 * The composition root: `createPool` composes the generic core (src/pool, free of
 * OpenTelemetry) with telemetry when `@opentelemetry/api` is installed, and with the
 * diagnostics_channel publisher. The public entry (index.ts) and the faces that build
 * their own pool (cistern/pg's `Pool`, cistern/generic-pool) import it from here, so
 * no part of cistern imports the package's root module.
 */
import { composeInstrumentation } from './diagnostics/compose.js';
import { instrumentDiagnostics } from './diagnostics/instrument-diagnostics.js';
import { loadTelemetry } from './load-telemetry.js';
import type { Driver } from './pool/driver.js';
import { Pool } from './pool/pool.js';
import type { PoolInstrumentation, PoolOptions } from './pool/types.js';

// Loaded synchronously (no top-level await, so `require('cistern')` works);
// undefined when the optional peer `@opentelemetry/api` is not installed.
const instrumenter = loadTelemetry();

/** Create a pool of `driver` connections. Options are validated; an invalid one throws `PoolConfigError`. */
export function createPool<C>(driver: Driver<C>, options?: PoolOptions): Pool<C> {
  return new Pool(driver, options, instrument);
}

/** OpenTelemetry (when installed) and diagnostics_channel, composed; neither is built for `telemetry: false`. */
function instrument(pool: Pool<any>): PoolInstrumentation | undefined {
  const channels = instrumentDiagnostics(pool);
  return composeInstrumentation(instrumenter?.(pool), channels);
}
