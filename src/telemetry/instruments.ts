/**
 * Metric instruments. Created once per Meter (shared by every pool using that
 * meter); each pool adds its own observable callback and its own attribute sets,
 * so two pools never mix (the instrumentation-pg issue 3354 trap).
 */
import type {
  Attributes,
  BatchObservableCallback,
  Counter,
  Histogram,
  Meter,
  Observable,
  ObservableUpDownCounter,
} from '@opentelemetry/api';
import { ValueType } from '@opentelemetry/api';
import {
  DURATION_BUCKETS_SECONDS,
  METRIC_CISTERN_CHECKOUT_FAILURES,
  METRIC_CISTERN_CLEARS,
  METRIC_CISTERN_CLOSED,
  METRIC_CISTERN_CONNECT_FAILURES,
  METRIC_CISTERN_CONNECTING,
  METRIC_CISTERN_INVALIDATED,
  METRIC_CISTERN_LEAKS,
  METRIC_CISTERN_OVERFLOW,
  METRIC_DB_CLIENT_CONNECTION_COUNT,
  METRIC_DB_CLIENT_CONNECTION_CREATE_TIME,
  METRIC_DB_CLIENT_CONNECTION_IDLE_MAX,
  METRIC_DB_CLIENT_CONNECTION_IDLE_MIN,
  METRIC_DB_CLIENT_CONNECTION_LIMIT,
  METRIC_DB_CLIENT_CONNECTION_MAX,
  METRIC_DB_CLIENT_CONNECTION_PENDING_REQUESTS,
  METRIC_DB_CLIENT_CONNECTION_TIMEOUTS,
  METRIC_DB_CLIENT_CONNECTION_USE_TIME,
  METRIC_DB_CLIENT_CONNECTION_WAIT_TIME,
  METRIC_DB_CLIENT_OPERATION_DURATION,
  POOL_TIME_BUCKETS_SECONDS,
} from './semconv.js';

export interface Instruments {
  meter: Meter;
  operationDuration: Histogram;
  createTime: Histogram;
  waitTime: Histogram;
  useTime: Histogram;
  timeouts: Counter;
  closed: Counter;
  invalidated: Counter;
  connectFailures: Counter;
  checkoutFailures: Counter;
  clears: Counter;
  leaks: Counter;
  // observables, fed by each pool's batch callback
  count: ObservableUpDownCounter;
  idleMax: ObservableUpDownCounter;
  idleMin: ObservableUpDownCounter;
  limit: ObservableUpDownCounter;
  max: ObservableUpDownCounter;
  pending: ObservableUpDownCounter;
  overflow: ObservableUpDownCounter;
  connecting: ObservableUpDownCounter;
  observables: Observable[];
}

const byMeter = new WeakMap<Meter, Instruments>();

function seconds(meter: Meter, name: string, description: string, buckets: number[]): Histogram {
  return meter.createHistogram(name, {
    unit: 's',
    description,
    advice: { explicitBucketBoundaries: buckets },
  });
}

function gauge(meter: Meter, name: string, unit: string, description: string): ObservableUpDownCounter {
  return meter.createObservableUpDownCounter(name, { unit, description, valueType: ValueType.INT });
}

function counter(meter: Meter, name: string, unit: string, description: string): Counter {
  return meter.createCounter(name, { unit, description, valueType: ValueType.INT });
}

export function instrumentsFor(meter: Meter): Instruments {
  const existing = byMeter.get(meter);
  if (existing) return existing;
  const conn = '{connection}';
  const count = gauge(
    meter,
    METRIC_DB_CLIENT_CONNECTION_COUNT,
    conn,
    'The number of connections that are currently in state described by the state attribute.',
  );
  const idleMax = gauge(
    meter,
    METRIC_DB_CLIENT_CONNECTION_IDLE_MAX,
    conn,
    'The maximum number of idle open connections allowed.',
  );
  const idleMin = gauge(
    meter,
    METRIC_DB_CLIENT_CONNECTION_IDLE_MIN,
    conn,
    'The minimum number of idle open connections allowed.',
  );
  const limit = gauge(
    meter,
    METRIC_DB_CLIENT_CONNECTION_LIMIT,
    conn,
    'The maximum number of open connections allowed.',
  );
  const max = gauge(
    meter,
    METRIC_DB_CLIENT_CONNECTION_MAX,
    conn,
    'Deprecated name of db.client.connection.limit: the maximum number of open connections allowed.',
  );
  const pending = gauge(
    meter,
    METRIC_DB_CLIENT_CONNECTION_PENDING_REQUESTS,
    '{request}',
    'The number of current pending requests for an open connection.',
  );
  const overflow = gauge(
    meter,
    METRIC_CISTERN_OVERFLOW,
    conn,
    'Open connections beyond the pool size (overflow in use).',
  );
  const connecting = gauge(meter, METRIC_CISTERN_CONNECTING, conn, 'Connections being opened right now.');
  const instruments: Instruments = {
    meter,
    operationDuration: seconds(
      meter,
      METRIC_DB_CLIENT_OPERATION_DURATION,
      'Duration of database client operations.',
      DURATION_BUCKETS_SECONDS,
    ),
    createTime: seconds(
      meter,
      METRIC_DB_CLIENT_CONNECTION_CREATE_TIME,
      'The time it took to create a new connection.',
      POOL_TIME_BUCKETS_SECONDS,
    ),
    waitTime: seconds(
      meter,
      METRIC_DB_CLIENT_CONNECTION_WAIT_TIME,
      'The time it took to obtain an open connection from the pool.',
      POOL_TIME_BUCKETS_SECONDS,
    ),
    useTime: seconds(
      meter,
      METRIC_DB_CLIENT_CONNECTION_USE_TIME,
      'The time between borrowing a connection and returning it to the pool.',
      POOL_TIME_BUCKETS_SECONDS,
    ),
    timeouts: counter(
      meter,
      METRIC_DB_CLIENT_CONNECTION_TIMEOUTS,
      '{timeout}',
      'The number of connection timeouts that have occurred trying to obtain a connection from the pool.',
    ),
    closed: counter(meter, METRIC_CISTERN_CLOSED, conn, 'Connections closed by the pool, by reason.'),
    invalidated: counter(
      meter,
      METRIC_CISTERN_INVALIDATED,
      conn,
      'Connections invalidated (found dead or discarded).',
    ),
    connectFailures: counter(
      meter,
      METRIC_CISTERN_CONNECT_FAILURES,
      '{failure}',
      'Failed attempts to open a connection.',
    ),
    checkoutFailures: counter(
      meter,
      METRIC_CISTERN_CHECKOUT_FAILURES,
      '{failure}',
      'Acquires that did not get a connection, by reason.',
    ),
    clears: counter(
      meter,
      METRIC_CISTERN_CLEARS,
      '{clear}',
      'Times the pool was cleared (a new generation started).',
    ),
    leaks: counter(meter, METRIC_CISTERN_LEAKS, '{leak}', 'Checkouts held longer than leakTimeoutMs.'),
    count,
    idleMax,
    idleMin,
    limit,
    max,
    pending,
    overflow,
    connecting,
    observables: [count, idleMax, idleMin, limit, max, pending, overflow, connecting],
  };
  byMeter.set(meter, instruments);
  return instruments;
}

export type { Attributes, BatchObservableCallback };
