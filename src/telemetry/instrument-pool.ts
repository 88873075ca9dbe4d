/**
 * `instrumentPool(pool)`: the PoolInstrumentation the public `createPool` plugs
 * into its core. Spans for queries and transactions, metrics for the pool.
 */
import { context, SpanKind, trace } from '@opentelemetry/api';
import type { PoolInstrumentation, TransactionInfo, TransactionScope } from '../pool/types.js';
import { DescriptionCache } from './description-cache.js';
import { PoolMetrics } from './pool-metrics.js';
import { TracerSource } from './providers.js';
import { createQueryObserver } from './query-observer.js';
import {
  ATTR_CISTERN_CONNECTION_ID,
  ATTR_CISTERN_POOL_WAIT_MS,
  ATTR_CISTERN_TX_ISOLATION,
  ATTR_CISTERN_TX_READ_ONLY,
  ATTR_CISTERN_TX_RETRIES,
  ATTR_DB_CLIENT_CONNECTION_POOL_NAME,
  EVENT_CISTERN_POOL_WAIT,
} from './semconv.js';
import { TransactionState, transactionKey } from './transaction-state.js';
import type { InstrumentablePool } from './types.js';

const NOOP_TX_SCOPE: TransactionScope = { attempt() {} };

/**
 * Instrument one pool. Returns an empty instrumentation for `telemetry: false`.
 * Uses `telemetry.tracerProvider` / `meterProvider` when given, else the global
 * providers, looked up lazily (an SDK started after the pool is still used).
 */
export function instrumentPool(pool: InstrumentablePool): PoolInstrumentation {
  const options = pool.options.telemetry;
  if (options === false) return {};
  const tracer = new TracerSource(options?.tracerProvider);
  const poolMetrics = new PoolMetrics(pool, options?.meterProvider);
  const poolName = pool.name;
  const descriptions = new DescriptionCache(poolName, options?.captureQueryText !== false);
  const txKey = transactionKey(poolName);
  const transactions = { open: 0 };
  const observer = createQueryObserver({
    tracer,
    globalOnly: options?.tracerProvider === undefined && options?.meterProvider === undefined,
    instruments: () => poolMetrics.instruments(),
    descriptions,
    txKey,
    transactions,
  });
  const system = pool.driver.target.system;

  return {
    observer,

    transaction<T>(info: TransactionInfo, run: (scope: TransactionScope) => Promise<T>): Promise<T> {
      const t = tracer.get();
      if (t === undefined) return run(NOOP_TX_SCOPE);
      const parent = context.active();
      const attributes: Record<string, string | number | boolean> = {
        [ATTR_DB_CLIENT_CONNECTION_POOL_NAME]: poolName,
        [ATTR_CISTERN_TX_RETRIES]: info.retries,
      };
      if (info.isolation) attributes[ATTR_CISTERN_TX_ISOLATION] = info.isolation;
      if (info.readOnly !== undefined) attributes[ATTR_CISTERN_TX_READ_ONLY] = info.readOnly;
      const span = t.startSpan(`transaction ${poolName}`, { kind: SpanKind.INTERNAL, attributes }, parent);
      const state = new TransactionState(span, system);
      const ctx = trace.setSpan(parent, span).setValue(txKey, state);
      let promise: Promise<T>;
      transactions.open++;
      try {
        promise = context.with(ctx, run, undefined, state);
      } catch (error) {
        transactions.open--;
        state.finish(false, error);
        throw error;
      }
      return promise.then(
        (value) => {
          transactions.open--;
          state.finish(true);
          return value;
        },
        (error: unknown) => {
          transactions.open--;
          state.finish(false, error);
          throw error;
        },
      );
    },

    acquired(waitMs: number, connectionId: number): void {
      poolMetrics.instruments(); // notice a late global MeterProvider even for pools that run no observed query
      // no wait (the common case) adds nothing to a transaction or a span: skip the context lookups
      if (!(waitMs > 0) || tracer.get() === undefined) return;
      const active = context.active();
      const tx = transactions.open > 0 ? (active.getValue(txKey) as TransactionState | undefined) : undefined;
      if (tx !== undefined) {
        tx.waitMs += waitMs;
        return;
      }
      const span = trace.getSpan(active);
      if (span === undefined || !span.isRecording()) return;
      span.addEvent(EVENT_CISTERN_POOL_WAIT, {
        [ATTR_CISTERN_POOL_WAIT_MS]: waitMs,
        [ATTR_CISTERN_CONNECTION_ID]: connectionId,
        [ATTR_DB_CLIENT_CONNECTION_POOL_NAME]: poolName,
      });
    },

    dispose(): void {
      poolMetrics.dispose();
    },
  };
}
