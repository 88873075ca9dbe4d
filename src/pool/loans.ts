/**
 * The loans: `pool.use` and `pool.transaction`, written against a narrow handle of
 * the pool (`LoanHandle`) rather than its internals.
 *
 * Owns: acquire, run the caller's function, hand the connection back exactly once
 * (release, or invalidate and clear after a disconnect); BEGIN / COMMIT / ROLLBACK or
 * the driver's own `runTransaction`; re-running a whole transaction on a retryable
 * failure with jittered backoff; the instrumentation hooks around both.
 */
import type { Conn } from './connection-record.js';
import type { BeginOptions } from './driver.js';
import type { DriverCalls } from './driver-calls.js';
import { PoolConfigError, PoolMisuseError } from './errors.js';
import { ISOLATION_LEVELS, isIsolationLevel } from './isolation.js';
import type { AcquireOptions, PoolInstrumentation, TransactionOptions, TransactionScope } from './types.js';

/** The slice of a pool that loans need. */
export interface LoanHandle<C> {
  readonly calls: DriverCalls<C>;
  readonly instr: PoolInstrumentation | undefined;
  /**
   * The fast path of `acquire`: the record of an idle connection checked out now, when
   * one can be handed out with no work and nobody waits (the `checkout` event is
   * emitted as `acquire` would); undefined otherwise (then call `wait`).
   */
  take(options: AcquireOptions | undefined): Conn<C> | undefined;
  /**
   * `acquire` when `take` found nothing, resolving with the record of the connection
   * (no lookup of the record by connection): the waiting line itself, out of line (the
   * pool's `#acquireSlow`, never inlined), unless `acquire` was replaced (then through it).
   */
  wait(options: AcquireOptions | undefined): Promise<Conn<C>>;
  /**
   * The caller is done with checkout `checkout` of `rec` (a no-op when it was already
   * handed back): release it, or on a disconnect `error` invalidate it and clear the pool.
   */
  finish(rec: Conn<C>, checkout: number, error: unknown): void;
  /** A rollback failed: the connection must not be reused (no-op when already handed back). */
  discard(rec: Conn<C>, checkout: number, error: unknown): void;
}

/**
 * Acquire, run `fn`, release. A disconnect error invalidates the connection and clears the pool.
 *
 * When an idle connection can be handed out with no work and nobody waits (`take`),
 * `fn` runs at once, within this call, without awaiting a promise of the connection:
 * 4 promises and 2 promise jobs fewer per call than through `acquire`. Its promise is not
 * awaited either (`lend`): the hand-back is chained onto it with `then`. `await` of a
 * driver's query object (postgres.js's `Query` is a Promise subclass, so `await` cannot
 * take its fast path) costs a promise, a resolve-thenable job and the `constructor` and
 * `then` lookups on top of that `then`; at 10 callers on 10 connections (every call
 * takes at once) `use` + postgres.js `SELECT 1` went from 3.5 % more instructions per
 * query than the bare free list to 4 % fewer (callgrind, `bench/pg-instructions.sh`,
 * 2026-12-08: 30,133 -> 27,985 against the free list's 29,115 / 29,173).
 *
 * A caller that waits goes through `runLoan` (async), as before. Two functions on purpose:
 * `use` (not async) takes the connection, `runLoan` (async) waits for one, calls `fn` and
 * hands the connection back. V8 optimizes each function with a budget of
 * bytecode it may inline (920 bytes), spent on the most frequent calls first, and
 * cistern's calls come before the caller's own. With the take and the hand-back in one
 * function, the pool's code spent that budget and `fn`'s query could not be inlined:
 * postgres.js's `sql` and `Query` then ran unoptimized, their own optimizations aborted
 * ~100 times in 5 s, and a query cost ~15 % more CPU than on a bare free list (bench/use-inlining.ts
 * checks it; why `Query` could not be optimized on its own, and the driver's fix for that:
 * `fastenQueryClass` in src/drivers/postgres/postgres-js.ts and docs/postgres.md). An async function is never
 * inlined into its caller, so `runLoan` has a budget of its own. `lend` is small and is
 * inlined where `use` is, as a bare free list's code is; the hand-back (`#finish`) stays out
 * of line there too.
 */
export function use<C, T>(
  h: LoanHandle<C>,
  fn: (conn: C) => Promise<T> | T,
  options: AcquireOptions | undefined,
): Promise<T> {
  if (typeof fn !== 'function') return Promise.reject(new TypeError('pool.use(fn): fn must be a function'));
  let rec: Conn<C> | undefined;
  try {
    rec = h.take(options);
  } catch (error) {
    return Promise.reject(error);
  }
  return rec === undefined ? runLoan(h, fn, options) : lend(h, rec, fn);
}

/**
 * `fn` on the connection `take` just checked out, handed back when its promise settles:
 * `then` on a promise (a driver's query is one), `settle` (await) for a value or another
 * thenable. `#finish` ignores a second hand-back of the same checkout, so a thenable that
 * calls both of its callbacks cannot check a connection in twice.
 */
function lend<C, T>(h: LoanHandle<C>, rec: Conn<C>, fn: (conn: C) => Promise<T> | T): Promise<T> {
  const checkout = rec.uses;
  const instr = h.instr;
  if (instr?.acquired !== undefined) instr.acquired(rec.waitMs, rec.id);
  let result: Promise<T> | T;
  try {
    result = fn(rec.conn);
  } catch (error) {
    h.finish(rec, checkout, error);
    return Promise.reject(error);
  }
  if (!(result instanceof Promise)) return settle(h, rec, checkout, result);
  return result.then(
    (value) => {
      h.finish(rec, checkout, undefined);
      return value;
    },
    (error: unknown) => {
      h.finish(rec, checkout, error);
      throw error;
    },
  );
}

/** `fn` returned a value or a thenable that is not a promise: awaited, then the connection handed back. */
async function settle<C, T>(
  h: LoanHandle<C>,
  rec: Conn<C>,
  checkout: number,
  result: T | PromiseLike<T>,
): Promise<T> {
  let value: T;
  try {
    value = await result;
  } catch (error) {
    h.finish(rec, checkout, error);
    throw error;
  }
  h.finish(rec, checkout, undefined);
  return value;
}

/**
 * Wait for a connection (someone waits, or a ping or a connect is due: `take` had none),
 * run `fn` on it and hand it back, in one async function, so a waiting caller pays one
 * async frame, not two (the path of every call under a backlog). The query keeps this
 * function's inlining budget:
 * `wait` is a call into the waiting line (`#acquireSlow`, never inlined), not `acquire`
 * with its fast path inlined here and a lookup of the record by connection after it. With
 * those inlined, a MariaDB query under a backlog (64 callers, 10 connections) left the
 * connector's `once` and its queue's `push` out of line, called with megamorphic loads
 * (callgrind, 2026-12-07, 2-core AMD EPYC: the out-of-line `once` alone 1,684 instructions
 * per query inclusive; `use` 6.8-10.1 % over the bare free list, 6.4-8.2 % after;
 * bench/mariadb-instructions.sh, bench/use-inlining.ts).
 */
async function runLoan<C, T>(
  h: LoanHandle<C>,
  fn: (conn: C) => Promise<T> | T,
  options: AcquireOptions | undefined,
): Promise<T> {
  const rec = await h.wait(options);
  const checkout = rec.uses;
  const instr = h.instr;
  if (instr?.acquired !== undefined) instr.acquired(rec.waitMs, rec.id);
  let result: T;
  try {
    result = await fn(rec.conn);
  } catch (error) {
    h.finish(rec, checkout, error);
    throw error;
  }
  h.finish(rec, checkout, undefined);
  return result;
}

/**
 * BEGIN, run `fn`, COMMIT; ROLLBACK and rethrow on error. `retries` re-runs the
 * whole function on a serialization failure or deadlock, with jittered backoff.
 */
export async function transaction<C, T>(
  h: LoanHandle<C>,
  fn: (conn: C) => Promise<T>,
  options: TransactionOptions,
): Promise<T> {
  if (typeof fn !== 'function') throw new TypeError('pool.transaction(fn): fn must be a function');
  const driver = h.calls.driver;
  if (driver.runTransaction === undefined && (!driver.begin || !driver.commit || !driver.rollback)) {
    throw new PoolMisuseError(
      `pool.transaction(): the '${driver.name}' driver does not support transactions`,
    );
  }
  const retries = options.retries ?? 0;
  if (!Number.isInteger(retries) || retries < 0) {
    throw new PoolConfigError(
      'retries',
      `invalid transaction option retries: got ${String(retries)}, expected an integer >= 0`,
    );
  }
  if (options.isolation !== undefined && !isIsolationLevel(options.isolation)) {
    throw new PoolConfigError(
      'isolation',
      `invalid transaction option isolation: got ${JSON.stringify(options.isolation)}, ` +
        `expected one of ${ISOLATION_LEVELS.join(', ')}`,
    );
  }
  const begin: BeginOptions = { isolation: options.isolation, readOnly: options.readOnly };
  const acquireOptions =
    options.signal === undefined && options.timeoutMs === undefined
      ? undefined
      : { signal: options.signal, timeoutMs: options.timeoutMs };
  const run = async (scope: TransactionScope | undefined): Promise<T> => {
    let previous: unknown;
    for (let attempt = 1; ; attempt++) {
      scope?.attempt(attempt, previous);
      try {
        return await once(h, fn, begin, acquireOptions);
      } catch (error) {
        if (attempt > retries || !h.calls.isRetryable(error)) throw error;
        previous = error;
        await sleep(Math.min(1000, 10 * 2 ** (attempt - 1)) * Math.random());
      }
    }
  };
  const instr = h.instr;
  if (instr?.transaction !== undefined) {
    return instr.transaction({ isolation: begin.isolation, readOnly: begin.readOnly, retries }, run);
  }
  return run(undefined);
}

/** One attempt of a transaction on one checkout. */
async function once<C, T>(
  h: LoanHandle<C>,
  fn: (conn: C) => Promise<T>,
  begin: BeginOptions,
  acquireOptions: AcquireOptions | undefined,
): Promise<T> {
  const driver = h.calls.driver;
  let rec = h.take(acquireOptions);
  if (rec === undefined) rec = await h.wait(acquireOptions);
  const conn = rec.conn;
  const checkout = rec.uses;
  const instr = h.instr;
  if (instr?.acquired !== undefined) instr.acquired(rec.waitMs, rec.id);
  let result: T;
  try {
    if (driver.runTransaction !== undefined) {
      result = await driver.runTransaction(conn, begin, fn);
    } else {
      await driver.begin!(conn, begin);
      try {
        result = await fn(conn);
        await driver.commit!(conn);
      } catch (error) {
        if (!rec.dead && !h.calls.isDisconnect(error)) {
          try {
            await driver.rollback!(conn);
          } catch (rollbackError) {
            // a connection that cannot roll back must not be reused
            h.discard(rec, checkout, rollbackError);
          }
        }
        throw error;
      }
    }
  } catch (error) {
    h.finish(rec, checkout, error);
    throw error;
  }
  h.finish(rec, checkout, undefined);
  return result;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
