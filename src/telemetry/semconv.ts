/**
 * The semantic-convention names cistern emits, copied here (as instrumentation-pg
 * does) so the package needs `@opentelemetry/api` only and an unstable name changing
 * upstream never breaks a build. Source: OpenTelemetry semantic conventions
 * docs/db/database-spans.md, sql.md and database-metrics.md (db.* stable since 1.33,
 * connection-pool metrics still "development"; `@opentelemetry/semantic-conventions` 1.45).
 */

// Span attributes (stable)
export const ATTR_DB_SYSTEM_NAME = 'db.system.name';
export const ATTR_DB_NAMESPACE = 'db.namespace';
export const ATTR_DB_COLLECTION_NAME = 'db.collection.name';
export const ATTR_DB_OPERATION_NAME = 'db.operation.name';
export const ATTR_DB_OPERATION_BATCH_SIZE = 'db.operation.batch.size';
export const ATTR_DB_QUERY_TEXT = 'db.query.text';
export const ATTR_DB_QUERY_SUMMARY = 'db.query.summary';
export const ATTR_DB_RESPONSE_STATUS_CODE = 'db.response.status_code';
export const ATTR_ERROR_TYPE = 'error.type';
export const ATTR_SERVER_ADDRESS = 'server.address';
export const ATTR_SERVER_PORT = 'server.port';

// Connection-pool attributes (development)
export const ATTR_DB_CLIENT_CONNECTION_POOL_NAME = 'db.client.connection.pool.name';
export const ATTR_DB_CLIENT_CONNECTION_STATE = 'db.client.connection.state';
export const DB_CLIENT_CONNECTION_STATE_VALUE_IDLE = 'idle';
export const DB_CLIENT_CONNECTION_STATE_VALUE_USED = 'used';

/** `error.type` fallback when nothing better is known. */
export const ERROR_TYPE_VALUE_OTHER = '_OTHER';

// Metrics
export const METRIC_DB_CLIENT_OPERATION_DURATION = 'db.client.operation.duration';
export const METRIC_DB_CLIENT_CONNECTION_COUNT = 'db.client.connection.count';
export const METRIC_DB_CLIENT_CONNECTION_IDLE_MAX = 'db.client.connection.idle.max';
export const METRIC_DB_CLIENT_CONNECTION_IDLE_MIN = 'db.client.connection.idle.min';
/** Current name (semconv 1.45) of the maximum number of open connections allowed. */
export const METRIC_DB_CLIENT_CONNECTION_LIMIT = 'db.client.connection.limit';
/** The same figure under its pre-1.45 name, still emitted for existing dashboards. */
export const METRIC_DB_CLIENT_CONNECTION_MAX = 'db.client.connection.max';
export const METRIC_DB_CLIENT_CONNECTION_PENDING_REQUESTS = 'db.client.connection.pending_requests';
export const METRIC_DB_CLIENT_CONNECTION_TIMEOUTS = 'db.client.connection.timeouts';
export const METRIC_DB_CLIENT_CONNECTION_CREATE_TIME = 'db.client.connection.create_time';
export const METRIC_DB_CLIENT_CONNECTION_WAIT_TIME = 'db.client.connection.wait_time';
export const METRIC_DB_CLIENT_CONNECTION_USE_TIME = 'db.client.connection.use_time';

/** Advised buckets of `db.client.operation.duration` (seconds). */
export const DURATION_BUCKETS_SECONDS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];
/** Buckets cistern advises for the pool's own timings (seconds): finer at the low end, where waits live. */
export const POOL_TIME_BUCKETS_SECONDS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30];

// cistern's own names
export const ATTR_CISTERN_TX_OUTCOME = 'cistern.transaction.outcome';
export const ATTR_CISTERN_TX_ATTEMPTS = 'cistern.transaction.attempts';
export const ATTR_CISTERN_TX_ATTEMPT = 'cistern.transaction.attempt';
export const ATTR_CISTERN_TX_RETRIES = 'cistern.transaction.retries';
export const ATTR_CISTERN_TX_ISOLATION = 'cistern.transaction.isolation';
export const ATTR_CISTERN_TX_READ_ONLY = 'cistern.transaction.read_only';
export const ATTR_CISTERN_POOL_WAIT_MS = 'cistern.pool.wait_ms';
export const ATTR_CISTERN_CONNECTION_ID = 'cistern.connection.id';
export const ATTR_CISTERN_CLOSE_REASON = 'cistern.connection.close_reason';
export const ATTR_CISTERN_CHECKOUT_FAILURE_REASON = 'cistern.checkout.failure_reason';
export const EVENT_CISTERN_TX_ATTEMPT = 'cistern.transaction.attempt';
export const EVENT_CISTERN_POOL_WAIT = 'cistern.pool.wait';

export const METRIC_CISTERN_OVERFLOW = 'cistern.pool.connection.overflow';
export const METRIC_CISTERN_CONNECTING = 'cistern.pool.connection.connecting';
export const METRIC_CISTERN_CLOSED = 'cistern.pool.connection.closed';
export const METRIC_CISTERN_INVALIDATED = 'cistern.pool.connection.invalidated';
export const METRIC_CISTERN_CONNECT_FAILURES = 'cistern.pool.connection.create_failures';
export const METRIC_CISTERN_CHECKOUT_FAILURES = 'cistern.pool.checkout.failures';
export const METRIC_CISTERN_CLEARS = 'cistern.pool.clears';
export const METRIC_CISTERN_LEAKS = 'cistern.pool.leaks';
