/**
 * Which errors mean "this connection is dead" and which mean "run the
 * transaction again", by stable code — never by message text.
 */

/** postgres.js connection codes and Node socket codes that mean the socket is gone. */
const DISCONNECT_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
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

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** True for postgres.js / socket errors that mean the physical connection is dead (the error or its causes). */
export function isDisconnectError(error: unknown): boolean {
  let current = error;
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth++) {
    const code = codeOf(current);
    // SQLSTATE class 08: connection exception
    if (code !== undefined && (DISCONNECT_CODES.has(code) || (code.length === 5 && code.startsWith('08')))) {
      return true;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** True for serialization failures (40001) and deadlocks (40P01). */
export function isRetryableError(error: unknown): boolean {
  const code = codeOf(error);
  return code !== undefined && RETRYABLE_CODES.has(code);
}

/** One line about an error for a ConnectError message: message and code, nothing else (no parameters, no options). */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = codeOf(error);
    return code !== undefined && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}
