/**
 * The pool core: the state of every connection and the pump.
 *
 * Owns: the connection records and the transition function `#move`, the ONLY writer
 * of a record's state and of the per-state count table that `stats()`, the drain
 * check and the pump read; the idle list; the pump (`#pump`), which every event
 * (acquire, check-in, connect done or failed, ping done or failed, timer fired,
 * clear, close) ends in, in the manner of tarn's `_tryAcquireOrCreate` and the
 * MongoDB driver's `processWaitQueue`; pre-ping, reset, recycling at check-out and
 * check-in; clear and close.
 *
 * Does not own (see docs/architecture.md): the waiting line (wait-queue.ts), `use` and
 * `transaction` (loans.ts), the connect backoff (connect-backoff.ts), the sweeper (idle
 * timeout, lifetime, leaks: housekeeping.ts), calls into the driver (driver-calls.ts),
 * events (emitter.ts), option validation (options.ts).
 */
import * as clock from './clock.js';
import { ConnectBackoff } from './connect-backoff.js';
import * as record from './connection-record.js';
import { Conn, type ConnState, newStateCounts } from './connection-record.js';
import { Deque } from './deque.js';
import type { Driver } from './driver.js';
import { checkDriver, DriverCalls, RESET_DONE, RESET_THREW, timerDelay } from './driver-calls.js';
import { PoolEmitter } from './emitter.js';
import {
  abortReason,
  ConnectError,
  captureStack,
  connectError,
  misuseError,
  PoolClosedError,
  PoolConfigError,
  PoolQueueFullError,
  type PoolTimeoutError,
  targetText,
  waitTimeoutError,
} from './errors.js';
import { Housekeeper } from './housekeeping.js';
import { type LoanHandle, transaction, use } from './loans.js';
import { acquireTimeoutOf, closeTimeoutOf, resolveOptions } from './options.js';
import type {
  AcquireOptions,
  CheckoutFailedReason,
  CloseOptions,
  CloseReason,
  PoolInstrumentation,
  PoolOptions,
  PoolStats,
  ResolvedPoolOptions,
  TransactionOptions,
} from './types.js';
import { type Waiter, WaitQueue } from './wait-queue.js';

// The states and the clock as this module's own constants: V8 folds a module's own
// `const` into optimized code, but reads an imported binding through its cell, with a
// check that it is initialized, at every use (some forty uses on one acquire + release).
const { ABANDONED, CLOSED, CLOSING, CONNECTING, IDLE, PINGING, RESETTING, USED } = record;
const { now, preciseNow } = clock;

/**
 * A pool of connections opened one by one through a {@link Driver}: the public
 * surface (`acquire`, `release`, `invalidate`, `use`, `transaction`, `clear`, `close`,
 * `ready`, `stats`, events) and the state machine behind it.
 */
export class Pool<C> extends PoolEmitter {
  readonly driver: Driver<C>;
  readonly options: Readonly<ResolvedPoolOptions>;
  readonly name: string;

  readonly #size: number;
  readonly #max: number;
  // Boolean fields are tested `=== true` on the hot paths: V8 does not track that a field
  // only ever holds booleans, so a bare `if (flag)` compiles to a full ToBoolean (a chain
  // of compares when the flag is true); `=== true` is one compare.
  readonly #lifo: boolean;
  readonly #prePing: boolean;
  readonly #window: number;
  readonly #maxUses: number;
  readonly #leakMs: number;
  readonly #reset: boolean;
  /** The driver has an `isAlive` check (read once: the driver object's shape differs between drivers). */
  readonly #checkAlive: boolean;
  readonly #minIdle: number;
  /** Something watches connections entering and leaving IDLE: the driver (`allowExitOnIdle`) or the idle timer. */
  readonly #idleHook: boolean;
  /** `#move` must call `#moved`: `#idleHook`, or `close()` waits for the pool to drain. */
  #moveHook = false;
  /** Tell the driver when a connection goes idle or busy (`allowExitOnIdle`). */
  readonly #exitOnIdle: boolean;
  /** Open connections on the pool's own to keep `minIdle` idle ones (`refillMinIdle`). */
  readonly #refill: boolean;
  readonly #instr: PoolInstrumentation | undefined;
  readonly #calls: DriverCalls<C>;
  readonly #queue: WaitQueue<C | Conn<C>>;
  readonly #loans: LoanHandle<C>;
  readonly #housekeeper: Housekeeper<C>;

  /** Records of connections the driver opened, by the driver's connection. */
  readonly #records = new Map<C, Conn<C>>();
  /** The records in state IDLE, in check-in order. */
  readonly #idle = new Deque<Conn<C>>();
  /** How many records are in each state; written only by `#move`. */
  readonly #n = newStateCounts();

  #generation = 0;
  #nextId = 0;
  #lastConnectError: unknown = undefined;
  readonly #backoff: ConnectBackoff;
  #pumping = false;
  #pumpAgain = false;
  #closed = false;
  #closePromise: Promise<void> | undefined = undefined;
  #drained: (() => void) | undefined = undefined;
  #ready: { resolve: () => void; reject: (error: unknown) => void }[] = [];

  constructor(
    driver: Driver<C>,
    options?: PoolOptions,
    instrument?: (pool: Pool<C>) => PoolInstrumentation | undefined,
  ) {
    super();
    checkDriver(driver);
    this.driver = driver;
    const resolved = resolveOptions(options, driver.target);
    this.options = Object.freeze(resolved);
    this.name = resolved.name;
    this.#size = resolved.size;
    this.#max = resolved.size + resolved.maxOverflow;
    this.#lifo = resolved.order === 'lifo';
    this.#prePing = resolved.prePing;
    // a window of 0 means "always ping", even when the clock has not moved since the check-in
    this.#window = resolved.prePingWindowMs === 0 ? -1 : resolved.prePingWindowMs;
    this.#maxUses = resolved.maxUses;
    this.#leakMs = resolved.leakTimeoutMs;
    this.#reset = resolved.resetOnReturn && typeof driver.reset === 'function';
    this.#checkAlive = typeof driver.isAlive === 'function';
    this.#minIdle = resolved.minIdle;
    this.#exitOnIdle = resolved.allowExitOnIdle && typeof driver.setIdle === 'function';
    this.#refill = resolved.refillMinIdle;
    this.#backoff = new ConnectBackoff(() => this.#pump(), resolved.connectBackoff);
    this.#calls = new DriverCalls(driver);
    this.#queue = new WaitQueue<C | Conn<C>>(resolved.acquireTimeoutMs, {
      onGiveUp: (_waiter, reason, error, waitMs) => {
        if (this.watched('checkoutFailed')) this.emit('checkoutFailed', { reason, error, waitMs });
      },
      timeoutError: (waiter) => this.#timeoutError(waiter),
      // a caller waiting through the connect back-off keeps the process alive (as the head timer does)
      onWaiting: (waiting) => this.#backoff.setWaiting(waiting),
    });
    this.#instr = resolved.telemetry === false || instrument === undefined ? undefined : instrument(this);
    this.#loans = {
      calls: this.#calls,
      instr: this.#instr,
      take: (o) => this.#take(o),
      // small on purpose: it is inlined where the caller's query is (loans.ts, runLoan)
      wait: (o) => this.#acquireSlow(o, true) as Promise<Conn<C>>,
      finish: (rec, checkout, error) => this.#finish(rec, checkout, error),
      discard: (rec, checkout, error) => {
        if (rec.state === USED && rec.uses === checkout) {
          this.#invalidateCheckedOut(rec, error);
          this.#pump();
        }
      },
    };
    this.#housekeeper = new Housekeeper<C>({
      options: this.options,
      closed: () => this.#closed,
      idle: () => this.#idle.toArray(),
      retire: (expired) => {
        const gone = new Set(expired.map(([rec]) => rec));
        this.#idle.filter((rec) => !gone.has(rec));
        for (const [rec, reason] of expired) this.#destroy(rec, reason);
      },
      records: () => this.#records.values(),
      watchingLeaks: () => this.watched('leak'),
      leak: (rec, heldMs) => this.emit('leak', { connectionId: rec.id, heldMs, stack: rec.stack ?? '' }),
      pump: () => this.#pump(),
    });
    this.#idleHook = this.#exitOnIdle || this.#housekeeper.timesIdle;
    this.#moveHook = this.#idleHook;
    if (resolved.minIdle > 0 && this.#refill) queueMicrotask(() => this.#pump());
  }

  // ---------------------------------------------------------------- the transition function

  /** Move `rec` to `to`: the one writer of `rec.state` and of the count table (into IDLE: `#enterIdle`). */
  #move(rec: Conn<C>, to: ConnState): void {
    const from = rec.state;
    const n = this.#n;
    if (from < CLOSED) n[from]--;
    n[to]++;
    rec.state = to;
    // the rare hooks out of line, behind one flag: #move stays small where it is inlined (the checkout path)
    if (this.#moveHook === true) this.#moved(rec, from, to);
  }

  /** A move out of IDLE that something watches, or into CLOSING/CLOSED while close() waits. */
  #moved(rec: Conn<C>, from: ConnState, to: ConnState): void {
    if (from === IDLE && this.#idleHook) this.#idleChanged(rec, false);
    if (to >= CLOSING && this.#drained !== undefined) this.#checkDrained();
  }

  /** The one way into IDLE: the move, then the end of the idle list, then whoever watches. */
  #enterIdle(rec: Conn<C>): void {
    this.#move(rec, IDLE);
    this.#idle.push(rec);
    if (this.#idleHook) this.#idleChanged(rec, true);
  }

  /** `rec` entered (`idle`) or left IDLE, and something watches that (`#idleHook`). */
  #idleChanged(rec: Conn<C>, idle: boolean): void {
    if (this.#exitOnIdle) this.#calls.setIdle(rec.conn, idle);
    if (idle && this.#housekeeper.timesIdle) this.#housekeeper.wentIdle();
  }

  /** Open connections: idle, checked out, being pinged or reset. */
  #open(): number {
    const n = this.#n;
    return n[IDLE] + n[USED] + n[PINGING] + n[RESETTING];
  }

  /** Connections the server may see: open, being opened, or being closed (bounded by `#max`). */
  #held(): number {
    const n = this.#n;
    return this.#open() + n[CONNECTING] + n[CLOSING];
  }

  // ---------------------------------------------------------------- acquire

  /** Check out a connection. Resolves with the driver's connection; pair with `release` or `invalidate`. */
  acquire(options?: AcquireOptions): Promise<C> {
    // the fast path: an idle connection, nobody waiting; the rest is out of line, so that
    // acquire stays small where it is inlined into the caller
    if (!this.#closed && options === undefined && this.#queue.length === 0 && this.#idle.length > 0) {
      const rec = this.#takeReadyIdle();
      if (rec !== undefined) {
        this.#checkout(rec, 0, undefined);
        return Promise.resolve(rec.conn);
      }
    }
    return this.#acquireSlow(options, false) as Promise<C>;
  }

  /**
   * `acquire` when the fast path did not serve it: closed, aborted, per-call options, or
   * the caller waits. One method on purpose, the queue-full error built in place: over
   * V8's 460-byte inlining limit, so the waiting line is never inlined into the caller of
   * `acquire` and never takes the budget that the fast path and the caller's own calls
   * need (at 16 callers it did: the `Waiter` was then built by the generic construct
   * stub, and `release` was a call; bench/use-inlining.ts checks it).
   */
  #acquireSlow(options: AcquireOptions | undefined, wantsRecord: boolean): Promise<C | Conn<C>> {
    // a loan (use, transaction) goes through a replaced acquire (tests replace it)
    if (wantsRecord && this.acquire !== Pool.prototype.acquire) return this.#acquireReplaced(options);
    if (this.#closed) return this.#failFast('closed', new PoolClosedError());
    if (options !== undefined && options.signal?.aborted) {
      return this.#failFast('aborted', abortReason(options.signal));
    }
    if (options !== undefined && this.#queue.length === 0 && this.#idle.length > 0) {
      const rec = this.#takeReadyIdle();
      if (rec !== undefined) {
        this.#checkout(rec, 0, undefined);
        return Promise.resolve(wantsRecord ? rec : rec.conn);
      }
    }
    // Callers a new connection will serve are not queued; the others wait for a release.
    // `maxWaiting` bounds those (generic-pool's `maxWaitingClients` rule).
    const maxWaiting = this.options.maxWaiting;
    const queued =
      maxWaiting === Number.POSITIVE_INFINITY ? 0 : this.#queue.length - (this.#max - this.#open());
    if (queued >= maxWaiting) {
      return this.#failFast(
        'queueFull',
        new PoolQueueFullError(
          `pool '${this.name}' has ${queued} callers waiting for a connection to be released, ` +
            `the maximum (maxWaiting=${maxWaiting})`,
        ),
      );
    }
    let timeoutMs = this.options.acquireTimeoutMs;
    let signal: AbortSignal | undefined;
    if (options !== undefined) {
      const checked = acquireTimeoutOf(options, timeoutMs);
      if (checked instanceof PoolConfigError) return Promise.reject(checked);
      timeoutMs = checked;
      signal = options.signal;
    }
    const promise = this.#queue.add(
      timeoutMs,
      signal,
      this.#leakMs > 0 ? captureStack() : undefined,
      wantsRecord,
    );
    // under a backlog (nothing idle, nothing more may open) the pump has nothing to do
    if (this.#idle.length > 0 || this.#held() < this.#max) this.#pump();
    return promise;
  }

  /** A loan's wait when `acquire` was replaced (tests do): through it, then the record of what it gave. */
  async #acquireReplaced(options: AcquireOptions | undefined): Promise<Conn<C>> {
    return this.#records.get(await this.acquire(options))!;
  }

  /** `acquire`'s fast path for `use`/`transaction` (none when `acquire` is replaced): a checked-out record, or undefined. */
  #take(options: AcquireOptions | undefined): Conn<C> | undefined {
    if (this.acquire !== Pool.prototype.acquire) return undefined;
    if (this.#closed || this.#queue.length !== 0 || this.#idle.length === 0) return undefined;
    if (options !== undefined && options.signal?.aborted) return undefined;
    const rec = this.#takeReadyIdle();
    if (rec !== undefined) this.#checkout(rec, 0, undefined);
    return rec;
  }

  /** The head idle connection if it can be handed out with no work (no ping, not stale). */
  #takeReadyIdle(): Conn<C> | undefined {
    const lifo = this.#lifo === true;
    const rec = lifo ? this.#idle.peekLast() : this.#idle.peek();
    if (rec === undefined || rec.generation !== this.#generation || rec.dead === true) return undefined;
    const t = now();
    if (t >= rec.expiresAt) return undefined;
    if (this.#prePing === true && t - rec.lastUsedAt > this.#window) return undefined;
    if (this.#checkAlive === true && !this.#calls.isAlive(rec.conn)) return undefined;
    if (lifo) this.#idle.pop();
    else this.#idle.shift();
    // keep minIdle warm: the fast path skips the pump, so refill here when it dipped
    if (this.#idle.length < this.#minIdle) this.#refillSoon();
    return rec;
  }

  /** The idle list dipped below `minIdle` on the fast path: let the pump open more, soon. */
  #refillSoon(): void {
    if (this.#open() + this.#n[CONNECTING] < this.#size) queueMicrotask(this.#pumpLater);
  }

  /** Hand `rec` (out of the idle list, or fresh, or just checked in) to a caller. */
  #checkout(rec: Conn<C>, waitMs: number, stack: string | undefined): void {
    // a check-in handing its connection straight to a waiter: still USED, the counts stand
    if (rec.state !== USED) this.#move(rec, USED);
    rec.uses++;
    rec.waitMs = waitMs;
    rec.checkedOutAt = now();
    if (this.#leakMs > 0) this.#watchLeak(rec, stack);
    // the rare work out of line: #checkout is inlined into acquire's callers, and its size
    // counts against the inlining budget they share with the pool's other small methods
    if (this.listeners.checkout !== undefined || this.conditional.checkout !== undefined) {
      this.#emitCheckout(rec, waitMs);
    }
  }

  #watchLeak(rec: Conn<C>, stack: string | undefined): void {
    rec.leakReported = false;
    rec.stack = stack ?? captureStack();
  }

  #emitCheckout(rec: Conn<C>, waitMs: number): void {
    if (this.watched('checkout')) this.emit('checkout', { connectionId: rec.id, waitMs });
  }

  #failFast(reason: CheckoutFailedReason, error: unknown): Promise<never> {
    if (this.watched('checkoutFailed')) this.emit('checkoutFailed', { reason, error, waitMs: 0 });
    return Promise.reject(error);
  }

  /** Give the longest waiter `rec`; false when nobody waits. */
  #handToWaiter(rec: Conn<C>): boolean {
    const w = this.#queue.take();
    if (w === undefined) return false;
    this.#checkout(rec, now() - w.start, w.stack);
    w.resolve(w.wantsRecord ? rec : rec.conn);
    return true;
  }

  #timeoutError(waiter: Waiter<C | Conn<C>>): PoolTimeoutError {
    const counts = { size: this.#size, max: this.#max, used: this.#n[USED], waiting: this.#queue.length };
    return waitTimeoutError(this.name, waiter.timeoutMs, counts, this.#lastConnectError);
  }

  // ---------------------------------------------------------------- the pump

  readonly #pumpLater = (): void => this.#pump();

  #pump(): void {
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#pumpAgain = false;
        if (this.#closed) return;
        this.#serveFromIdle();
        this.#openConnections();
      } while (this.#pumpAgain);
    } finally {
      this.#pumping = false;
    }
  }

  /** Hand idle connections to waiters, closing stale ones and pinging those outside the window. */
  #serveFromIdle(): void {
    const idle = this.#idle;
    while (this.#queue.length > 0 && idle.length > 0) {
      const rec = (this.#lifo ? idle.pop() : idle.shift())!;
      if (this.#discardIfUnfit(rec)) continue;
      if (this.#prePing && now() - rec.lastUsedAt > this.#window) {
        if (this.#n[PINGING] >= this.#queue.length) {
          // enough pings in flight to serve everyone waiting
          if (this.#lifo) idle.push(rec);
          else idle.unshift(rec);
          return;
        }
        this.#ping(rec);
        continue;
      }
      this.#handToWaiter(rec);
    }
  }

  /** Close `rec` (not in the idle list) if it must not be handed out. */
  #discardIfUnfit(rec: Conn<C>): boolean {
    if (rec.dead) {
      this.#invalidateRec(rec, rec.deadError);
      return true;
    }
    if (rec.generation !== this.#generation) {
      this.#destroy(rec, 'stale');
      return true;
    }
    if (now() >= rec.expiresAt) {
      this.#destroy(rec, 'recycled');
      return true;
    }
    if (this.#checkAlive === true && !this.#calls.isAlive(rec.conn)) {
      this.#invalidateRec(rec, new Error('the driver reported the connection closed'));
      return true;
    }
    return false;
  }

  #openConnections(): void {
    const opts = this.options;
    const n = this.#n;
    while (n[CONNECTING] < opts.maxConnecting && this.#held() < this.#max) {
      const forWaiters = this.#queue.length - n[PINGING] - n[CONNECTING] > 0;
      // without refillMinIdle, minIdle is opened only for a ready() that waits
      const forMinIdle = this.#refill
        ? this.#idle.length + n[CONNECTING] < opts.minIdle && this.#open() + n[CONNECTING] < this.#size
        : this.#ready.length > 0 && this.#open() + n[CONNECTING] < opts.minIdle;
      if (!forWaiters && !forMinIdle) return;
      if (this.#backoff.blocked()) return;
      this.#connect();
    }
  }

  // ---------------------------------------------------------------- connecting

  #connect(): void {
    const rec = new Conn<C>(++this.#nextId);
    this.#move(rec, CONNECTING);
    const started = preciseNow();
    const round = this.#backoff.round;
    const timeoutMs = this.options.connectTimeoutMs;
    this.#calls.connect(
      {
        connectionId: rec.id,
        timeoutMs,
        observer: this.#instr?.observer,
        onDead: (error?: unknown) => this.#markDead(rec, error),
      },
      () =>
        new ConnectError(
          `connecting to ${targetText(this.driver.target, this.name)} timed out after ${timeoutMs} ms (connectTimeoutMs)`,
        ),
      (error, conn) => {
        const durationMs = preciseNow() - started;
        if (error !== undefined) {
          this.#move(rec, CLOSED);
          this.#connectFailed(error, durationMs, round);
        } else if (this.#closed) {
          // the pool closed while connecting: this connection is nobody's
          this.#closeConn(rec, conn as C);
        } else if (this.#records.has(conn as C)) {
          this.#closeConn(rec, conn as C);
          this.#connectFailed(
            new ConnectError(`the driver returned a connection that is already in pool '${this.name}'`),
            durationMs,
            round,
          );
        } else {
          this.#adopt(rec, conn as C, durationMs);
          this.#pump();
        }
      },
    );
  }

  /** A connect succeeded: the record gets its connection and is free for the first caller. */
  #adopt(rec: Conn<C>, conn: C, durationMs: number): void {
    const t = preciseNow();
    const life = this.options.maxLifetimeMs;
    rec.conn = conn;
    rec.generation = this.#generation;
    rec.createdAt = t;
    rec.expiresAt = life > 0 ? t + life * (1 - 0.025 * Math.random()) : Number.POSITIVE_INFINITY;
    // a fresh connection counts as just used: no ping before its first checkout
    rec.lastUsedAt = t;
    if (rec.dead && rec.deadError === undefined) {
      rec.deadError = new Error('the connection was closed by the server or the network');
    }
    this.#records.set(conn, rec);
    this.#backoff.succeeded();
    this.#lastConnectError = undefined;
    if (this.watched('connect')) this.emit('connect', { connectionId: rec.id, durationMs });
    // a connection reported dead while connecting is adopted dead: never handed out
    this.#returnToPool(rec);
    this.#settleReady();
  }

  #connectFailed(raw: unknown, durationMs: number, round: number): void {
    const error = connectError(raw, this.driver.target, this.name);
    this.#lastConnectError = error;
    if (this.watched('connectFailed')) this.emit('connectFailed', { error, durationMs });
    for (const r of this.#ready.splice(0)) r.reject(error);
    if (this.#closed) return;
    // the caller that waited longest learns why (SQLAlchemy, pg-pool and CMAP do the same)
    if (this.#queue.length > this.#n[CONNECTING] + this.#n[PINGING]) {
      this.#queue.giveUpFirst('connectError', error);
    }
    // back off once per round (100 ms doubling to 2 s, jittered), not once per failed connect
    this.#backoff.failed(round, this.#queue.length > 0);
    this.#pump();
  }

  // ---------------------------------------------------------------- pings

  #ping(rec: Conn<C>): void {
    this.#move(rec, PINGING);
    this.#calls.ping(rec.conn, this.options.connectTimeoutMs, (error, _value, timedOut) => {
      // close() gave up waiting for this ping and already closed the connection
      if (rec.state !== PINGING) return;
      if (error === undefined) {
        rec.lastUsedAt = now();
        this.#returnToPool(rec);
      } else {
        // a ping that failed with a disconnect (or timed out): the server may have dropped
        // every connection, so start a new generation; a plain "dead" answer retires this one only
        this.#invalidateRec(rec, error);
        if (timedOut || this.#calls.isDisconnect(error)) this.clear();
      }
      this.#pump();
    });
  }

  // ---------------------------------------------------------------- release

  /** Return a checked-out connection. A second release, or a connection of another pool, throws `PoolMisuseError`. */
  release(conn: C): void {
    const rec = this.#checkedOut('release', conn);
    if (rec !== undefined) this.#finish(rec, rec.uses, undefined);
  }

  /** Close a checked-out connection instead of returning it. */
  invalidate(conn: C, error?: unknown): void {
    const rec = this.#checkedOut('invalidate', conn);
    if (rec === undefined) return;
    this.#invalidateCheckedOut(rec, error);
    this.#pump();
  }

  /** The record of a connection handed back by its holder; else see `#notCheckedOut`. */
  #checkedOut(method: string, conn: C): Conn<C> | undefined {
    const rec = this.#records.get(conn);
    if (rec !== undefined && rec.state === USED) return rec;
    return this.#notCheckedOut(method, conn, rec);
  }

  /** Not checked out: closed under its holder by `close()` (a no-op), or misuse (`PoolMisuseError`). */
  #notCheckedOut(method: string, conn: C, rec: Conn<C> | undefined): undefined {
    if (rec !== undefined && rec.state === ABANDONED) {
      this.#records.delete(conn);
      return undefined;
    }
    throw misuseError(method, this.name, rec?.id);
  }

  /**
   * The holder of checkout `checkout` of `rec` is done with it (`release`, or the end of
   * `use`/`transaction`; a no-op when that checkout was already handed back): check it in,
   * or after a disconnect `error` invalidate it and clear the pool.
   *
   * One method on purpose: over V8's 460-byte inlining limit, so the check-in never takes
   * the caller's inlining budget (`runLoan`), which its query needs (bench/use-inlining.ts).
   */
  #finish(rec: Conn<C>, checkout: number, error: unknown): void {
    if (rec.state !== USED || rec.uses !== checkout) return;
    if (error !== undefined && (rec.dead || this.#calls.isDisconnect(error))) {
      this.#invalidateCheckedOut(rec, error);
      this.clear();
      return;
    }
    rec.lastUsedAt = now();
    rec.stack = undefined;
    if (
      this.listeners.checkin !== undefined ||
      (this.conditional.checkin !== undefined && this.wanted('checkin'))
    ) {
      this.emit('checkin', { connectionId: rec.id, heldMs: rec.lastUsedAt - rec.checkedOutAt });
    }
    if (rec.uses >= this.#maxUses) {
      this.#destroy(rec, 'maxUses');
      this.#afterClose();
      return;
    }
    if (this.#reset) {
      const started = this.#calls.reset(rec.conn);
      if (started === RESET_THREW) {
        this.#invalidateRec(rec, this.#calls.syncError);
        this.#afterClose();
        return;
      }
      if (started !== RESET_DONE) {
        this.#move(rec, RESETTING);
        // a closure only when a reset is really running
        this.#calls.awaitReset(this.options.connectTimeoutMs, (resetError) => {
          if (rec.state !== RESETTING) return;
          if (resetError === undefined) {
            this.#returnToPool(rec);
            this.#pump();
          } else {
            this.#invalidateRec(rec, resetError);
            this.#afterClose();
          }
        });
        return;
      }
    }
    this.#returnToPool(rec);
  }

  /** Close a checked-out connection instead of checking it in (its holder is done with it). */
  #invalidateCheckedOut(rec: Conn<C>, error: unknown): void {
    if (this.watched('checkin')) {
      this.emit('checkin', { connectionId: rec.id, heldMs: now() - rec.checkedOutAt });
    }
    this.#invalidateRec(rec, error);
  }

  /** Put a connection that is free again where it belongs: to the longest waiter, to the idle list, or closed. */
  #returnToPool(rec: Conn<C>): void {
    if (this.#closed) {
      this.#destroy(rec, 'poolClosed');
      return;
    }
    if (this.#discardIfUnfit(rec)) {
      this.#afterClose();
      return;
    }
    if (this.#queue.length > 0 && this.#handToWaiter(rec)) return;
    // a fresh connection (still CONNECTING) is open too; without overflow nothing can exceed size
    if (this.#max > this.#size && this.#open() + (rec.state === CONNECTING ? 1 : 0) > this.#size) {
      this.#destroy(rec, 'overflow');
      this.#afterClose();
      return;
    }
    this.#enterIdle(rec);
  }

  #afterClose(): void {
    if (!this.#closed) this.#pump();
  }

  // ---------------------------------------------------------------- closing connections

  #markDead(rec: Conn<C>, error: unknown): void {
    if (rec.dead || rec.state >= CLOSING) return;
    rec.dead = true;
    rec.deadError = error ?? new Error('the connection was closed by the server or the network');
    if (rec.state === IDLE) {
      this.#idle.remove(rec);
      this.#invalidateRec(rec, rec.deadError);
      this.#afterClose();
    }
  }

  #invalidateRec(rec: Conn<C>, error: unknown): void {
    if (rec.state >= CLOSING) return;
    if (this.watched('invalidate')) this.emit('invalidate', { connectionId: rec.id, error });
    this.#destroy(rec, 'invalidated');
  }

  /** Close one connection that is not in the idle list (taken out of it, checked out, pinged, reset). */
  #destroy(rec: Conn<C>, reason: CloseReason, abandoned = false): void {
    if (rec.state >= CLOSING) return;
    if (abandoned) {
      // closed under its holder at the end of close(), when no connection opens any more
      this.#move(rec, ABANDONED);
    } else {
      this.#records.delete(rec.conn);
      this.#move(rec, CLOSING);
    }
    if (this.watched('close')) this.emit('close', { connectionId: rec.id, reason });
    if (abandoned) this.#calls.close(rec.conn);
    else this.#closeDriver(rec, rec.conn);
  }

  /** Close the connection a connect brought that nobody will use. */
  #closeConn(rec: Conn<C>, conn: C): void {
    this.#move(rec, CLOSING);
    this.#closeDriver(rec, conn);
  }

  /** The driver's close of a CLOSING `rec`: it counts against `max` until the close settles or `connectTimeoutMs` passes. */
  #closeDriver(rec: Conn<C>, conn: C): void {
    this.#calls.close(conn, this.options.connectTimeoutMs, () => {
      this.#move(rec, CLOSED);
      this.#afterClose();
    });
  }

  // ---------------------------------------------------------------- use / transaction

  /** Acquire, run `fn`, release. A disconnect error invalidates the connection and clears the pool. */
  use<T>(fn: (conn: C) => Promise<T> | T, options?: AcquireOptions): Promise<T> {
    return use(this.#loans, fn, options);
  }

  /** BEGIN, `fn`, COMMIT; ROLLBACK and rethrow on error; `retries` re-runs it on a serialization failure or deadlock. */
  transaction<T>(fn: (conn: C) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    return transaction(this.#loans, fn, options);
  }

  // ---------------------------------------------------------------- clear / close

  /** Start a new generation: idle connections close now, checked-out ones at check-in. */
  clear(): void {
    if (this.#closed) return;
    this.#generation++;
    const idle = this.#idle.toArray();
    this.#idle.clear();
    if (this.watched('clear')) this.emit('clear', { generation: this.#generation });
    for (const rec of idle) {
      if (rec.dead) this.#invalidateRec(rec, rec.deadError);
      else this.#destroy(rec, 'stale');
    }
    this.#pump();
  }

  /**
   * Graceful shutdown: new and waiting acquires fail with `PoolClosedError`,
   * checked-out connections are awaited up to `timeoutMs` (default 30000), then
   * everything is closed. Idempotent.
   */
  close(options?: CloseOptions): Promise<void> {
    if (this.#closePromise !== undefined) return this.#closePromise;
    const timeoutMs = closeTimeoutOf(options);
    if (timeoutMs instanceof PoolConfigError) return Promise.reject(timeoutMs);
    this.#closed = true;
    this.#stopTimers();
    this.#queue.giveUpAll(
      'closed',
      () => new PoolClosedError('the pool was closed while this caller waited for a connection'),
    );
    this.#calls.abortConnects(new PoolClosedError('the pool was closed while connecting'));
    const idle = this.#idle.toArray();
    this.#idle.clear();
    for (const rec of idle) this.#destroy(rec, 'poolClosed');
    for (const r of this.#ready.splice(0))
      r.reject(new PoolClosedError('the pool was closed before it was ready'));
    this.#closePromise = this.#shutdown(timeoutMs);
    return this.#closePromise;
  }

  async #shutdown(timeoutMs: number): Promise<void> {
    if (!this.#isDrained()) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#drained = resolve;
        this.#moveHook = true;
        if (timeoutMs !== Number.POSITIVE_INFINITY) timer = setTimeout(resolve, timerDelay(timeoutMs));
      });
      if (timer !== undefined) clearTimeout(timer);
      this.#drained = undefined;
      this.#moveHook = this.#idleHook;
      // whatever is still checked out is closed under its holder (a later release is a no-op);
      // a ping or reset still running finds its connection closed when it settles
      for (const rec of [...this.#records.values()]) {
        if (rec.state === USED) this.#destroy(rec, 'poolClosed', true);
        else if (rec.state === PINGING || rec.state === RESETTING) this.#destroy(rec, 'poolClosed');
      }
    }
    await this.#calls.closesSettled();
    try {
      this.#instr?.dispose?.();
    } catch {}
  }

  /** Nothing checked out, pinging, resetting or connecting. */
  #isDrained(): boolean {
    const n = this.#n;
    return n[USED] === 0 && n[PINGING] === 0 && n[RESETTING] === 0 && n[CONNECTING] === 0;
  }

  #checkDrained(): void {
    if (this.#drained !== undefined && this.#isDrained()) this.#drained();
  }

  #stopTimers(): void {
    this.#queue.stop();
    this.#backoff.stop();
    this.#housekeeper.stop();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---------------------------------------------------------------- ready / stats

  /**
   * Resolves when `minIdle` connections are open; rejects with the connect error if they
   * cannot be opened. With `refillMinIdle: false` this is the one time the pool opens
   * them on its own.
   */
  ready(): Promise<void> {
    if (this.#closed) return Promise.reject(new PoolClosedError());
    if (this.#open() >= this.options.minIdle) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#ready.push({ resolve, reject });
      this.#pump();
    });
  }

  #settleReady(): void {
    if (this.#ready.length > 0 && this.#open() >= this.options.minIdle) {
      for (const r of this.#ready.splice(0)) r.resolve();
    }
  }

  /** A snapshot of the pool's counters, derived from the count table; cheap, always current. */
  stats(): PoolStats {
    const n = this.#n;
    const open = this.#open();
    return {
      size: open + n[CONNECTING],
      idle: n[IDLE],
      used: n[USED] + n[PINGING] + n[RESETTING],
      pending: this.#queue.length,
      connecting: n[CONNECTING],
      closing: n[CLOSING],
      overflow: open > this.#size ? open - this.#size : 0,
      max: this.#max,
      generation: this.#generation,
    };
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }
}
