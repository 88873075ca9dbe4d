/**
 * A pooled connection's record and the states it can be in (the life of a
 * connection, docs/architecture.md). This file owns the vocabulary only: the pool's
 * transition function (`Pool#move` in pool.ts) is the one writer of `state`, and it
 * keeps the per-state count table (`StateCounts`) in step, so every count the pool
 * reports is derived from where its connections are (postgres.js `move(c, queue)`,
 * the MongoDB driver's derived `totalConnectionCount`).
 */

/** Being opened by the driver; no physical connection yet. */
export const CONNECTING = 0;
/** Open, in the idle list, ready to be handed out. */
export const IDLE = 1;
/** Checked out by a caller. */
export const USED = 2;
/** Being pinged before it is handed out. */
export const PINGING = 3;
/** Checked in, the driver's reset is running. */
export const RESETTING = 4;
/**
 * Handed to the driver's close, which has not settled yet: the server may still see it,
 * so it counts against `size + maxOverflow` until the close settles or its deadline
 * (`connectTimeoutMs`) passes. Out of the pool's records already.
 */
export const CLOSING = 5;
/** Closed (or never opened); the record is gone from the pool. Not counted. */
export const CLOSED = 6;
/** Closed by `close()` after its timeout while a caller still held it; a later release is a no-op. */
export const ABANDONED = 7;

export type ConnState = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

export const STATE_NAMES = [
  'connecting',
  'idle',
  'used',
  'pinging',
  'resetting',
  'closing',
  'closed',
  'abandoned',
] as const;

/** How many records are in each state, indexed by state. */
export type StateCounts = number[];

/**
 * A fresh table of zeros, built by `push`, never an array literal: a literal of constants
 * is born with copy-on-write elements, so every pool after the first handed `#move` a
 * table its optimized code had not seen: `#move` deoptimized ("wrong map") and every
 * count update went through the copy-on-write check from then on (the 16-caller
 * 16-caller acquire/release regression seen in `npm run bench -- acquire-release`; test/fixtures/pool-shapes.ts checks it).
 */
export function newStateCounts(): StateCounts {
  const n: StateCounts = [];
  for (let i = 0; i < STATE_NAMES.length; i++) n.push(0);
  return n;
}

/**
 * One pooled connection. Times are on the clocks named in clock.ts (one time line, so
 * they compare): `checkedOutAt` and `waitMs` on the tick clock; `createdAt` and
 * `expiresAt` on the precise clock; `lastUsedAt` on the tick clock after a check-in or a
 * ping, and equal to `createdAt` (precise) until the first check-in, so a fresh
 * connection is never older than the pre-ping window by a stale tick.
 */
export class Conn<C> {
  /** A record is born CLOSED ("not in the pool") and moved to CONNECTING at once. */
  state: ConnState = CLOSED;
  /** The driver's connection; set when the connect succeeds. */
  conn: C = undefined as C;
  generation = 0;
  /** Checkouts so far; also the token that tells one checkout from the next. */
  uses = 0;
  checkedOutAt = 0;
  waitMs = 0;
  createdAt = 0;
  expiresAt = Number.POSITIVE_INFINITY;
  lastUsedAt = 0;
  /** The driver reported it dead (`onDead`); it is never handed out again. */
  dead = false;
  deadError: unknown = undefined;
  leakReported = false;
  stack: string | undefined = undefined;
  constructor(readonly id: number) {}
}
