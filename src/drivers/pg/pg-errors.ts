/**
 * Which node-postgres errors mean "this connection is dead" and which make a
 * transaction worth re-running: by SQLSTATE and socket code first. pg raises its
 * own connection-loss errors without a code, so those few are known by their
 * exact text (pg 8.x wording, listed below), the one place where text is matched.
 */

import { codeOf, isConnectionLossCode, isRetryableSqlState } from '../sqlstate.js';
import { describeTlsError, isTlsError } from '../tls-plan.js';

/** What pg's socket raises beyond the shared codes (../sqlstate.ts): a write on a socket already ended. */
const DRIVER_DISCONNECT_CODES = new Set(['ERR_STREAM_WRITE_AFTER_END']);

/** pg's code-less connection errors (lib/client.js, lib/connection.js), exact messages. */
const DISCONNECT_MESSAGES = new Set([
  'Connection terminated unexpectedly',
  'Connection terminated',
  'Client was closed and is not queryable',
  'Client has encountered a connection error and is not queryable',
  'Connection terminated due to connection timeout',
]);

/** True when `error` (or one of its causes) means the physical connection is gone. */
export function isPgDisconnect(error: unknown): boolean {
  let current = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = codeOf(current);
    if (code !== undefined) {
      if (DRIVER_DISCONNECT_CODES.has(code) || isConnectionLossCode(code)) return true;
    } else if (current instanceof Error && DISCONNECT_MESSAGES.has(current.message)) {
      return true;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** True for serialization failures (40001) and deadlocks (40P01). */
export function isPgRetryable(error: unknown): boolean {
  return isRetryableSqlState(error);
}

/** One line about an error for a ConnectError message: its message and code, never options or parameters. */
export function describePgError(error: unknown): string {
  // a certificate not trusted, a host name the certificate lacks: worded as the postgres.js driver does
  if (isTlsError(error)) return describeTlsError(error, (error as { host?: string }).host);
  if (error instanceof Error) {
    const code = codeOf(error);
    const message = error.message || error.name;
    return code !== undefined && !message.includes(code) ? `${message} (${code})` : message;
  }
  return String(error);
}
