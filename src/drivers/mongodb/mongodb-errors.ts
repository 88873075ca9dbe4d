/** Errors the MongoDB driver adds to the driver's own, and the scrubbing of secrets from error text. */
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
