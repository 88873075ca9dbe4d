/**
 * Which node-postgres errors mean "this connection is dead" and which make a
 * transaction worth re-running: by SQLSTATE and socket code first. pg raises its
 * own connection-loss errors without a code, so those few are known by their
 * exact text (pg 8.x wording, listed below), the one place where text is matched.
 */

/** Node socket codes and SQLSTATEs after which the connection cannot be used again. */
const DISCONNECT_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'ENOTCONN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_STREAM_DESTROYED',
  'ERR_STREAM_WRITE_AFTER_END',
  'ERR_SOCKET_CLOSED',
  '57P01', // admin_shutdown (pg_terminate_backend, fast shutdown)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
]);

/** pg's code-less connection errors (lib/client.js, lib/connection.js), exact messages. */
const DISCONNECT_MESSAGES = new Set([
  'Connection terminated unexpectedly',
  'Connection terminated',
  'Client was closed and is not queryable',
  'Client has encountered a connection error and is not queryable',
  'Connection terminated due to connection timeout',
]);

/** Serialization failure and deadlock: the whole transaction may succeed when re-run. */
const RETRYABLE_CODES = new Set(['40001', '40P01']);

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** True when `error` (or one of its causes) means the physical connection is gone. */
export function isPgDisconnect(error: unknown): boolean {
  let current = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = codeOf(current);
    if (code !== undefined) {
      // SQLSTATE class 08: connection exception
      if (DISCONNECT_CODES.has(code) || (code.length === 5 && code.startsWith('08'))) return true;
    } else if (current instanceof Error && DISCONNECT_MESSAGES.has(current.message)) {
      return true;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** True for serialization failures (40001) and deadlocks (40P01). */
export function isPgRetryable(error: unknown): boolean {
  const code = codeOf(error);
  return code !== undefined && RETRYABLE_CODES.has(code);
}

/** One line about an error for a ConnectError message: its message and code, never options or parameters. */
export function describePgError(error: unknown): string {
  if (error instanceof Error) {
    const code = codeOf(error);
    const message = error.message || error.name;
    return code !== undefined && !message.includes(code) ? `${message} (${code})` : message;
  }
  return String(error);
}
