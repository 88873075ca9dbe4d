/**
 * Which connector errors mean "this connection is dead" and which make a
 * transaction worth re-running. Matched on numbers and codes, never on text.
 */

/** The fields of the connector's `SqlError` (and of Node socket errors) we look at. */
interface ErrorFields {
  errno?: unknown;
  code?: unknown;
  sqlState?: unknown;
  fatal?: unknown;
  cause?: unknown;
}

/** Server and connector error numbers after which the connection cannot be used again. */
const DISCONNECT_ERRNOS = new Set([
  1053, // ER_SERVER_SHUTDOWN: server shutdown in progress
  1077, // ER_NORMAL_SHUTDOWN
  1079, // ER_SHUTDOWN_COMPLETE
  1152, // ER_ABORTING_CONNECTION
  1927, // ER_CONNECTION_KILLED (MariaDB): KILL <id> from another session
  4031, // ER_CLIENT_INTERACTION_TIMEOUT (MySQL 8): disconnected for inactivity (wait_timeout)
  45001, // ER_CONNECTION_ALREADY_CLOSED
  45004, // ER_CMD_NOT_EXECUTED_DESTROYED
  45009, // ER_SOCKET_UNEXPECTED_CLOSE
  45011, // ER_UNEXPECTED_PACKET: stream desynchronised
  45012, // ER_CONNECTION_TIMEOUT
  45013, // ER_CMD_CONNECTION_CLOSED
  45019, // ER_SOCKET
  45026, // ER_SOCKET_TIMEOUT
  45042, // ER_PING_TIMEOUT
]);

/** Node socket error codes (the connector marks them `fatal` and keeps the code). */
const DISCONNECT_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTCONN',
  'ERR_SOCKET_CLOSED',
  'ERR_STREAM_DESTROYED',
  'ERR_STREAM_WRITE_AFTER_END',
]);

/**
 * Errors the connector flags `fatal` although the connection survives: SQLSTATE 70100
 * with 1317 ER_QUERY_INTERRUPTED (KILL QUERY), 1969 ER_STATEMENT_TIMEOUT (max_statement_time)
 * and 3024 (MySQL max_execution_time) interrupt one statement only.
 */
const STATEMENT_ONLY_ERRNOS = new Set([1317, 1969, 3024]);

function fields(error: unknown): ErrorFields | undefined {
  return typeof error === 'object' && error !== null ? (error as ErrorFields) : undefined;
}

function disconnectOne(e: ErrorFields): boolean {
  const errno = typeof e.errno === 'number' ? e.errno : undefined;
  if (errno !== undefined && DISCONNECT_ERRNOS.has(errno)) return true;
  if (typeof e.code === 'string' && DISCONNECT_CODES.has(e.code)) return true;
  if (typeof e.sqlState === 'string' && e.sqlState.startsWith('08')) return true;
  if (e.fatal === true && !(errno !== undefined && STATEMENT_ONLY_ERRNOS.has(errno))) return true;
  return false;
}

/** True when `error` (or an error in its `cause` chain) means the physical connection is dead. */
export function isMariadbDisconnect(error: unknown): boolean {
  let e = fields(error);
  for (let depth = 0; e !== undefined && depth < 5; depth++) {
    if (disconnectOne(e)) return true;
    e = fields(e.cause);
  }
  return false;
}

/**
 * Transaction failures worth re-running the whole transaction for:
 * 1213 ER_LOCK_DEADLOCK (InnoDB rolled the transaction back), SQLSTATE 40001 (serialization
 * failure, also 1213), 1020 ER_CHECKREAD (MariaDB 11.6+ innodb_snapshot_isolation: the row
 * changed since the snapshot), 1614 ER_XA_RBDEADLOCK; and 1205 ER_LOCK_WAIT_TIMEOUT only when
 * asked (`retryLockWaitTimeout`), because every attempt waits the full lock timeout again.
 */
export function isMariadbRetryable(error: unknown, retryLockWaitTimeout = false): boolean {
  const e = fields(error);
  if (e === undefined) return false;
  if (e.sqlState === '40001') return true;
  const errno = e.errno;
  if (errno === 1213 || errno === 1020 || errno === 1614) return true;
  return retryLockWaitTimeout && errno === 1205;
}
