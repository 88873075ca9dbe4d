/**
 * The MongoDB driver's errors: which of the `mongodb` package's errors mean a dead
 * connection or a transaction worth re-running, the errors cistern adds (a failed
 * connect, a connection lost while idle, transactions on a standalone), and the
 * scrubbing of secrets from error text.
 */
import { ConnectError, maskUrl } from '../../pool/errors.js';

/** Replace every occurrence of the secrets (raw and URL-encoded) in `text` with `***`. */
export function scrub(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = text;
  for (const secret of secrets) {
    if (!secret) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join('***');
  }
  return out;
}

/** A failed connect, naming the URL with its password masked; `cause` is the driver's error. */
export function connectError(url: string, cause: unknown, password: string | undefined): ConnectError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  const name = cause instanceof Error ? cause.name : 'Error';
  return new ConnectError(
    scrub(`MongoDB connect to ${maskUrl(url)} failed: ${name}: ${reason}`, [password]),
    {
      cause,
    },
  );
}

/**
 * The driver learned, outside of any command of ours, that the client's
 * connection died or its server became unreachable (the MongoClient would
 * reconnect silently; the pool must not hand this connection out again).
 */
export class MongoConnectionLostError extends Error {
  readonly code = 'MONGODB_CONNECTION_LOST';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MongoConnectionLostError';
  }
}

/**
 * `pool.transaction` on a server that cannot run transactions: a standalone
 * `mongod` refuses transaction numbers (IllegalOperation, code 20). `cause` is
 * the server's error.
 */
export class MongoTransactionsUnsupportedError extends Error {
  readonly code = 'MONGODB_TRANSACTIONS_UNSUPPORTED';
  constructor(where: string, options?: { cause?: unknown }) {
    super(
      `MongoDB transactions need a replica set or a sharded cluster (mongos), but ${where} is a standalone ` +
        'server, which refuses transaction numbers (IllegalOperation, code 20). Run it as a single-node replica ' +
        'set (mongod --replSet rs0, then rs.initiate()), or do without pool.transaction.',
      options,
    );
    this.name = 'MongoTransactionsUnsupportedError';
  }
}

// Which errors mean "this client's connection is dead". Matched by the driver's
// error names and labels (not `instanceof`, which fails across two installed
// copies of `mongodb`), following `cause` and `originalError` a few levels down.

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
export function isMongoRetryable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const has = (error as { hasErrorLabel?: unknown }).hasErrorLabel;
  return (
    typeof has === 'function' && (has as (label: string) => boolean).call(error, 'TransientTransactionError')
  );
}
