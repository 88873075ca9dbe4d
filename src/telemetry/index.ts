/**
 * cistern/telemetry: OpenTelemetry spans and metrics for cistern pools, following
 * the stable database semantic conventions. Depends on `@opentelemetry/api` only;
 * with no SDK registered every call is a no-op. The public `createPool` loads this
 * module when it can and calls `instrumentPool` for every pool (unless
 * `telemetry: false`).
 */
export { describeQuery, errorAttributes, errorType, responseStatusCode, spanName } from './attributes.js';
export { instrumentPool } from './instrument-pool.js';
export { INSTRUMENTATION_NAME } from './providers.js';
export * as semconv from './semconv.js';
export { sanitizeSql, summarizeSql } from './sql-text.js';
export type { InstrumentablePool, TelemetryOptions } from './types.js';
export { VERSION } from './version.js';
