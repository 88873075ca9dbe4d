/**
 * The one guarded wrapper around a {@link Driver} (kysely's runtime-driver.ts, tarn's
 * PendingOperation.ts): every call the pool makes to a driver to open, check, reset, idle
 * or close a connection goes through here. The one exception is a transaction's own
 * statements (`begin`/`commit`/`rollback`/`runTransaction`, loans.ts): they run on the
 * caller's checkout like the caller's queries, awaited inside `transaction()`'s try/catch
 * (a synchronous throw lands there too) and with no deadline of the pool's, since they
 * take as long as the caller's work does.
 *
 * Owns: calling a driver method so that a synchronous throw is a failure like a
 * rejection; a deadline and an abort per call, settled exactly once; closing a
 * connection that arrives after its caller gave up; the non-throwing predicates
 * (`isAlive`, `isDisconnect`, `isRetryable`); the idle hook (`setIdle`); and the set
 * of closes in flight, so `close()` can wait for them; and the check that an object
 * is a Driver at all. pool.ts has no timer and no try/catch around a driver call:
 * they are all here (its one timer is `close()`'s grace period, which waits for callers).
 */
import type { ConnectContext, Driver } from './driver.js';
import { PoolConfigError } from './errors.js';

/** A call's outcome: `error` undefined means it succeeded with `value`. */
export type Settle<T> = (error: unknown, value: T | undefined, timedOut: boolean) => void;

/** `reset` finished synchronously with nothing to do. */
export const RESET_DONE = 0;
/** `reset` threw synchronously; the error is in `DriverCalls.syncError`. */
export const RESET_THREW = 1;
/** `reset` is running; its settle callback will be called once. */
export const RESET_PENDING = 2;

/**
 * Node fires a timer of more than 2^31 - 1 ms after 1 ms (TimeoutOverflowWarning): clamp, so a huge
 * timeout waits about 24.8 days instead of firing at once (callers re-arm for the rest).
 */
export function timerDelay(ms: number): number {
  return Math.max(0, Math.min(ms, 2_147_483_647));
}

export class DriverCalls<C> {
  readonly driver: Driver<C>;
  readonly #closing = new Set<Promise<void>>();
  readonly #aborts = new Set<AbortController>();
  /** The error of the last `reset` that threw synchronously. */
  syncError: unknown = undefined;
  /** The promise of the last `reset` that returned one, until `awaitReset` takes it. */
  pendingReset: Promise<void> | undefined = undefined;

  constructor(driver: Driver<C>) {
    this.driver = driver;
  }

  /**
   * The single guard: wait for `pending` until `timeoutMs`, then give up with
   * `timeoutError()` (aborting `abort`, when given); `settle` runs exactly once. A value
   * that arrives after the caller gave up goes to `late` (e.g. a connection to close).
   */
  #guard<T>(
    pending: PromiseLike<T>,
    timeoutMs: number,
    timeoutError: () => unknown,
    settle: Settle<T>,
    abort: AbortController | undefined,
    late: ((value: T) => void) | undefined,
  ): void {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const done = (error: unknown, value: T | undefined, timedOut: boolean): void => {
      if (settled) {
        if (error === undefined && !timedOut && late !== undefined) late(value as T);
        return;
      }
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      if (abort !== undefined) this.#aborts.delete(abort);
      settle(error, value, timedOut);
    };
    if (timeoutMs !== Number.POSITIVE_INFINITY) {
      timer = setTimeout(() => {
        const error = timeoutError();
        abort?.abort(error);
        done(error, undefined, true);
      }, timerDelay(timeoutMs));
    }
    pending.then(
      (value) => done(undefined, value, false),
      (error: unknown) => done(error ?? new Error('the driver rejected with no reason'), undefined, false),
    );
  }

  /** Open one connection with a deadline; `close` the connection if it arrives after the deadline or an abort. */
  connect(ctx: Omit<ConnectContext, 'signal'>, timeoutError: () => unknown, settle: Settle<C>): void {
    const abort = new AbortController();
    this.#aborts.add(abort);
    const full: ConnectContext = { ...ctx, signal: abort.signal };
    this.#guard(
      this.#invoke(() => this.driver.connect(full)),
      ctx.timeoutMs,
      timeoutError,
      settle,
      abort,
      (conn) => this.close(conn),
    );
  }

  /** Abort every connect in flight (the driver must then reject them); they settle as the driver answers. */
  abortConnects(reason: unknown): void {
    for (const abort of [...this.#aborts]) abort.abort(reason);
  }

  /** A real round trip with a deadline; `false` from the driver is a failure with `deadMessage`. */
  ping(conn: C, timeoutMs: number, settle: Settle<unknown>): void {
    this.#guard(
      this.#invoke(() => this.driver.ping(conn)).then(
        (ok) => {
          if (ok === false) throw new Error(PING_FALSE);
          return ok;
        },
        (error: unknown) => {
          throw error ?? new Error('ping failed');
        },
      ),
      timeoutMs,
      () => new Error(`pre-ping timed out after ${timeoutMs} ms`),
      settle,
      undefined,
      undefined,
    );
  }

  /**
   * Start the driver's reset: RESET_DONE when it had nothing to do (check-in stays on the
   * fast path, nothing allocated), RESET_THREW when it threw (error in `syncError`),
   * RESET_PENDING when it returned a promise (in `pendingReset`; hand it to `awaitReset`).
   */
  reset(conn: C): number {
    let pending: Promise<void> | void;
    try {
      pending = this.driver.reset!(conn);
    } catch (error) {
      this.syncError = error;
      return RESET_THREW;
    }
    if (pending === undefined || typeof (pending as Promise<void>).then !== 'function') return RESET_DONE;
    this.pendingReset = pending as Promise<void>;
    return RESET_PENDING;
  }

  /** Wait for the reset `reset` just started, with a deadline like a hung ping; `settle` runs once. */
  awaitReset(timeoutMs: number, settle: Settle<unknown>): void {
    const pending = this.pendingReset!;
    this.pendingReset = undefined;
    this.#guard(
      pending,
      timeoutMs,
      () => new Error(`reset timed out after ${timeoutMs} ms`),
      settle,
      undefined,
      undefined,
    );
  }

  /**
   * Close a connection; never throws, never rejects. Tracked (for `closesSettled`) until
   * it settles or `timeoutMs` passes, whichever is first; then `settled` runs, once. A
   * close that hangs is given up on at the deadline, so nothing waits on it for ever.
   */
  close(conn: C, timeoutMs = Number.POSITIVE_INFINITY, settled?: () => void): void {
    let done!: () => void;
    const tracked = new Promise<void>((resolve) => {
      done = resolve;
    });
    this.#closing.add(tracked);
    this.#guard(
      this.#invoke(() => this.driver.close(conn)),
      timeoutMs,
      () => undefined,
      () => {
        this.#closing.delete(tracked);
        done();
        settled?.();
      },
      undefined,
      undefined,
    );
  }

  /** Resolves when every close started so far (and any started meanwhile) has settled. */
  async closesSettled(): Promise<void> {
    while (this.#closing.size > 0) await Promise.all([...this.#closing]);
  }

  /** The driver's cheap liveness check; no check means alive, a check that throws means dead. */
  isAlive(conn: C): boolean {
    if (this.driver.isAlive === undefined) return true;
    try {
      return this.driver.isAlive(conn);
    } catch {
      return false;
    }
  }

  /** True when `error` means the physical connection is dead; a throwing check means no. */
  isDisconnect(error: unknown): boolean {
    try {
      return this.driver.isDisconnect(error);
    } catch {
      return false;
    }
  }

  /** True when a failed transaction may be re-run; a throwing check means no. */
  isRetryable(error: unknown): boolean {
    try {
      return this.driver.isRetryable?.(error) === true;
    } catch {
      return false;
    }
  }

  /** Tell the driver a connection went idle (true) or is in use again (false); errors are ignored. */
  setIdle(conn: C, idle: boolean): void {
    try {
      this.driver.setIdle?.(conn, idle);
    } catch {}
  }

  /** Call a driver method; a synchronous throw becomes a rejected promise. */
  #invoke<T>(call: () => T | PromiseLike<T>): Promise<T> {
    try {
      return Promise.resolve(call());
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

export const PING_FALSE = 'the driver reported the connection dead (ping returned false)';

/** Refuse, with a clear error, an object that is not a Driver (createPool's first argument). */
export function checkDriver(driver: unknown): asserts driver is Driver<unknown> {
  const d = driver as Record<string, unknown> | null;
  const missing: string[] = [];
  if (typeof d !== 'object' || d === null) {
    throw new PoolConfigError('driver', 'createPool(driver, options): driver must be a Driver object');
  }
  for (const key of ['connect', 'ping', 'close', 'isDisconnect']) {
    if (typeof d[key] !== 'function') missing.push(key);
  }
  if (typeof d.target !== 'object' || d.target === null) missing.push('target');
  if (missing.length > 0) {
    throw new PoolConfigError(
      'driver',
      `createPool(driver, options): the driver lacks ${missing.join(', ')} (see src/pool/driver.ts)`,
    );
  }
}
