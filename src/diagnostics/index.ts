/**
 * cistern's `node:diagnostics_channel` publishing and the query log built on it.
 * Free of `@opentelemetry/*`: works with or without it installed.
 */
export {
  POOL_CHANNELS,
  type PoolChannelMessages,
  QUERY_CHANNEL,
  type QueryMessage,
  TRANSACTION_CHANNEL,
  type TransactionMessage,
} from './channels.js';
export { composeInstrumentation } from './compose.js';
export { instrumentDiagnostics } from './instrument-diagnostics.js';
export {
  formatQueryLine,
  logQueries,
  type QueryLogOptions,
  type QueryLogRecord,
  type QueryLogSink,
} from './query-log.js';
