/**
 * cistern: the public surface of the core. `createPool` composes the generic
 * core (src/pool, free of OpenTelemetry) with telemetry when
 * `@opentelemetry/api` is installed; without it the pool works the same.
 */
import { loadTelemetry } from './load-telemetry.js';
import type { Driver } from './pool/driver.js';
import { Pool } from './pool/pool.js';
import type { PoolOptions } from './pool/types.js';

// Loaded synchronously (no top-level await, so `require('cistern')` works);
// undefined when the optional peer `@opentelemetry/api` is not installed.
const instrumenter = loadTelemetry();

/** Create a pool of `driver` connections. Options are validated; an invalid one throws `PoolConfigError`. */
export function createPool<C>(driver: Driver<C>, options?: PoolOptions): Pool<C> {
  return new Pool(driver, options, instrumenter);
}

export type {
  BeginOptions,
  ConnectContext,
  ConnectionMeta,
  Driver,
  DriverTarget,
  IsolationLevel,
  QueryInfo,
  QueryObserver,
  QueryScope,
} from './pool/driver.js';
export {
  ConnectError,
  isPoolError,
  maskUrl,
  PoolClosedError,
  PoolConfigError,
  PoolError,
  PoolMisuseError,
  PoolQueueFullError,
  PoolTimeoutError,
} from './pool/errors.js';
export { fromFactory, type ResourceFactory } from './pool/from-factory.js';
export { Pool } from './pool/pool.js';
export type * from './pool/types.js';
