/**
 * cistern: the public surface of the core. `createPool` composes the generic
 * core (src/pool, free of OpenTelemetry) with telemetry when
 * `@opentelemetry/api` is installed; without it the pool works the same.
 */

import { Cluster, type ClusterOptions } from './cluster/index.js';
import { composeInstrumentation } from './diagnostics/compose.js';
import { instrumentDiagnostics } from './diagnostics/instrument-diagnostics.js';
import type { Driver } from './pool/driver.js';
import { Pool } from './pool/pool.js';
import type { PoolInstrumentation, PoolOptions } from './pool/types.js';

type Instrumenter = (pool: Pool<any>) => PoolInstrumentation | undefined;

// A missing optional peer must never break an import: telemetry loads only if it can.
const telemetryModule = './telemetry/index.js';
const instrumenter: Instrumenter | undefined = await import(telemetryModule).then(
  (m: { instrumentPool?: Instrumenter }) => m.instrumentPool,
  () => undefined,
);

/** Create a pool of `driver` connections. Options are validated; an invalid one throws `PoolConfigError`. */
export function createPool<C>(driver: Driver<C>, options?: PoolOptions): Pool<C> {
  return new Pool(driver, options, instrument);
}

/** OpenTelemetry (when installed) and diagnostics_channel, composed; neither is built for `telemetry: false`. */
function instrument(pool: Pool<any>): PoolInstrumentation | undefined {
  const channels = instrumentDiagnostics(pool);
  return composeInstrumentation(instrumenter?.(pool), channels);
}

export {
  formatQueryLine,
  logQueries,
  POOL_CHANNELS,
  type PoolChannelMessages,
  QUERY_CHANNEL,
  type QueryLogOptions,
  type QueryLogRecord,
  type QueryLogSink,
  type QueryMessage,
  TRANSACTION_CHANNEL,
  type TransactionMessage,
} from './diagnostics/index.js';
/** Create a cluster: one pool per host, writes to the primary, `read` to replicas (see README "Clusters"). */
export function createCluster<C>(options: ClusterOptions<C>): Cluster<C> {
  return new Cluster(options, createPool);
}

export * from './cluster/index.js';
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
