/**
 * cistern: the public surface of the core. `createPool` (create-pool.ts) composes the
 * generic core (src/pool, free of OpenTelemetry) with telemetry when
 * `@opentelemetry/api` is installed; without it the pool works the same.
 */

import { Cluster, type ClusterOptions } from './cluster/index.js';
import { createPool } from './create-pool.js';

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
export { createPool };
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
