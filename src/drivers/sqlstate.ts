/**
 * What both PostgreSQL drivers (`cistern/postgres`, `cistern/pg`) read off an error
 * by its stable code: whether the connection is gone, whether the transaction is
 * worth re-running. Each driver adds only what its client raises of its own
 * (postgres.js's `CONNECTION_*` codes, pg's code-less connection errors).
 */

/** Node socket codes and SQLSTATEs after which a PostgreSQL connection cannot be used again. */
const CONNECTION_LOSS_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'ENOTCONN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_STREAM_DESTROYED',
  'ERR_SOCKET_CLOSED',
  // SQLSTATE class 57: the server is going away
  '57P01', // admin_shutdown (pg_terminate_backend, fast shutdown)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up / shutting down)
]);

/** Serialization failure and deadlock: the whole transaction may succeed when re-run. */
const RETRYABLE_CODES = new Set(['40001', '40P01']);

/** The string `code` of an error object, if it has one. */
export function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** True for a socket code or SQLSTATE (class 08 connection exception, class 57P) that means the connection is gone. */
export function isConnectionLossCode(code: string): boolean {
  return CONNECTION_LOSS_CODES.has(code) || (code.length === 5 && code.startsWith('08'));
}

/** True for serialization failures (40001) and deadlocks (40P01). */
export function isRetryableSqlState(error: unknown): boolean {
  const code = codeOf(error);
  return code !== undefined && RETRYABLE_CODES.has(code);
}
