/**
 * Which errors mean "this client's connection is dead". Matched by the driver's
 * error names and labels (not `instanceof`, which fails across two installed
 * copies of `mongodb`), following `cause` and `originalError` a few levels down.
 */

const DEAD_NAMES = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongoPoolClearedError',
  'PoolClearedOnNetworkError',
  'MongoPoolClosedError',
  'MongoTopologyClosedError',
  'MongoClientClosedError',
  'MongoNotConnectedError',
  'MongoServerClosedError',
  'MongoConnectionLostError',
]);

/** Raw socket errors the driver sometimes lets through unwrapped. */
const DEAD_SOCKET_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ENOTCONN',
]);

/** Server codes of a node going away: InterruptedAtShutdown, ShutdownInProgress. */
const DEAD_SERVER_CODES = new Set([11600, 91]);

function hasResetPoolLabel(error: object): boolean {
  const labels = (error as { errorLabels?: unknown }).errorLabels;
  if (labels instanceof Set) return labels.has('ResetPool');
  if (Array.isArray(labels)) return labels.includes('ResetPool');
  const has = (error as { hasErrorLabel?: unknown }).hasErrorLabel;
  return typeof has === 'function' && (has as (label: string) => boolean).call(error, 'ResetPool') === true;
}

function isDeadOne(error: object): boolean {
  const { name, code } = error as { name?: unknown; code?: unknown };
  if (typeof name === 'string' && DEAD_NAMES.has(name)) return true;
  if (typeof code === 'string' && DEAD_SOCKET_CODES.has(code)) return true;
  if (typeof code === 'number' && DEAD_SERVER_CODES.has(code)) return true;
  return hasResetPoolLabel(error);
}

export function isMongoDisconnect(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    if (isDeadOne(current)) return true;
    const next = current as { cause?: unknown; originalError?: unknown };
    current = next.cause ?? next.originalError;
  }
  return false;
}

/** A server error whose code (or the code of the error it wraps) is `code`. */
export function hasServerCode(error: unknown, code: number): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    if ((current as { code?: unknown }).code === code) return true;
    const next = current as { cause?: unknown; originalError?: unknown };
    current = next.originalError ?? next.cause;
  }
  return false;
}

/** A transaction error the driver labels transient: re-running the whole transaction may succeed. */
export function isTransientTransactionError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const has = (error as { hasErrorLabel?: unknown }).hasErrorLabel;
  return (
    typeof has === 'function' && (has as (label: string) => boolean).call(error, 'TransientTransactionError')
  );
}
