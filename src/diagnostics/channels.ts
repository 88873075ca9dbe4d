/**
 * cistern's `node:diagnostics_channel` channels: their names (public API, listed
 * in the README) and the message each one carries. Nothing here imports
 * `@opentelemetry/*`: the channels work without it installed.
 *
 * - `cistern:query` and `cistern:transaction` are tracing channels: subscribers
 *   see `tracing:cistern:query:start`, `:end`, `:asyncStart`, `:asyncEnd` and
 *   `:error`, all with the same message object, which fills in as the query goes.
 * - `cistern:pool:<event>` are plain channels, one per pool event, carrying the
 *   event's payload plus the pool's name.
 *
 * A message never holds a parameter value or a password: query text is the text
 * as sent (placeholders) or, for text without parameters, sanitized (every literal
 * becomes `?`).
 */
import dc from 'node:diagnostics_channel';
import type { IsolationLevel } from '../pool/driver.js';
import type { CheckoutFailedReason, CloseReason, TransactionOutcome } from '../pool/types.js';

export const QUERY_CHANNEL = 'cistern:query';
export const TRANSACTION_CHANNEL = 'cistern:transaction';

/** The pool events published as plain channels, `cistern:pool:<event>`. */
export const POOL_CHANNELS = {
  connect: 'cistern:pool:connect',
  connectFailed: 'cistern:pool:connectFailed',
  checkout: 'cistern:pool:checkout',
  checkoutFailed: 'cistern:pool:checkoutFailed',
  checkin: 'cistern:pool:checkin',
  invalidate: 'cistern:pool:invalidate',
  close: 'cistern:pool:close',
  clear: 'cistern:pool:clear',
  leak: 'cistern:pool:leak',
} as const;

/** The message of `cistern:query`, one object per query from `start` to `asyncEnd`. */
export interface QueryMessage {
  /** The pool's name (`db.client.connection.pool.name`). */
  readonly pool: string;
  /** The driver's name: 'postgres', 'pg', 'mariadb', 'mongodb', ... */
  readonly driver: string;
  /** The pool's id of the connection the query runs on. */
  readonly connectionId: number;
  /** `db.system.name`: 'postgresql', 'mariadb', 'mysql', 'mongodb', ... */
  readonly system: string;
  /** The database (`db.namespace`). */
  readonly database: string | undefined;
  readonly host: string | undefined;
  readonly port: number | undefined;
  /** The text as sent (placeholders, never values), or sanitized when it had no parameters. Undefined for MongoDB. */
  readonly text: string | undefined;
  /** The operation when the driver knows it (MongoDB command name, 'BEGIN', ...). */
  readonly operation: string | undefined;
  /** The collection when the driver knows it (MongoDB). */
  readonly collection: string | undefined;
  /** Operations in a batch, when more than one. */
  readonly batchSize: number | undefined;
  /** `performance.now()` when the query started. */
  readonly startedAt: number;
  /** Milliseconds from start to settle; set before `asyncStart`. */
  durationMs: number | undefined;
  /** What the query failed with; set before `error`. */
  error?: unknown;
}

/** The message of `cistern:transaction`, one object per `pool.transaction` call (all its attempts). */
export interface TransactionMessage {
  readonly pool: string;
  readonly driver: string;
  readonly system: string;
  readonly isolation: IsolationLevel | undefined;
  readonly readOnly: boolean | undefined;
  /** The `retries` option. */
  readonly retries: number;
  /** Attempts started so far (1 + retries taken). */
  attempts: number;
  /** How it ended; set before `asyncStart`. */
  outcome: TransactionOutcome | undefined;
  /** What it failed with (set before `error`). */
  error?: unknown;
}

/** The message of `cistern:pool:<event>`: the event's payload plus the pool. */
export interface PoolChannelMessages {
  connect: { pool: string; connectionId: number; durationMs: number };
  connectFailed: { pool: string; error: unknown; durationMs: number };
  checkout: { pool: string; connectionId: number; waitMs: number };
  checkoutFailed: { pool: string; reason: CheckoutFailedReason; error: unknown; waitMs: number };
  checkin: { pool: string; connectionId: number; heldMs: number };
  invalidate: { pool: string; connectionId: number; error: unknown };
  close: { pool: string; connectionId: number; reason: CloseReason };
  clear: { pool: string; generation: number };
  leak: { pool: string; connectionId: number; heldMs: number; stack: string };
}

export const queryChannel = dc.tracingChannel<string, QueryMessage & object>(QUERY_CHANNEL);
export const transactionChannel = dc.tracingChannel<string, TransactionMessage & object>(TRANSACTION_CHANNEL);

type Tracing = dc.TracingChannel<string, object>;

/** True when anything listens on any of the five channels of a tracing channel. */
export function traced(t: Tracing): boolean {
  const all = (t as { hasSubscribers?: boolean }).hasSubscribers;
  if (all !== undefined) return all;
  return (
    t.start.hasSubscribers ||
    t.end.hasSubscribers ||
    t.asyncStart.hasSubscribers ||
    t.asyncEnd.hasSubscribers ||
    t.error.hasSubscribers
  );
}
