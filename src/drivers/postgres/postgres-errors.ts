/**
 * Which errors mean "this connection is dead" and which mean "run the
 * transaction again", by stable code — never by message text.
 */

import { codeOf, isConnectionLossCode, isRetryableSqlState } from '../sqlstate.js';

/** postgres.js's own codes for a connection that is gone (socket codes and SQLSTATEs: ../sqlstate.ts). */
const DRIVER_DISCONNECT_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
]);

/** True for postgres.js / socket errors that mean the physical connection is dead (the error or its causes). */
export function isPostgresDisconnect(error: unknown): boolean {
  let current = error;
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth++) {
    const code = codeOf(current);
    if (code !== undefined && (DRIVER_DISCONNECT_CODES.has(code) || isConnectionLossCode(code))) {
      return true;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** True for serialization failures (40001) and deadlocks (40P01). */
export function isPostgresRetryable(error: unknown): boolean {
  return isRetryableSqlState(error);
}

/** One line about an error for a ConnectError message: message and code, nothing else (no parameters, no options). */
export function describePostgresError(error: unknown): string {
  if (error instanceof Error) {
    const code = codeOf(error);
    return code !== undefined && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}
