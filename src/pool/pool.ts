import { now } from './clock.js';
import { Deque } from './deque.js';
import type { ConnectContext, Driver } from './driver.js';
import { PoolEmitter } from './emitter.js';
import {
  abortReason,
  ConnectError,
  isPoolError,
  maskUrl,
  PoolClosedError,
  PoolConfigError,
  PoolMisuseError,
  PoolQueueFullError,
  PoolTimeoutError,
} from './errors.js';
import { resolveOptions } from './options.js';
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
  TransactionScope,
} from './types.js';
import { WaiterHeap } from './waiter-heap.js';

// A connection's state is simply where it is (postgres.js `move(c, queue)`).
const IDLE = 0;
const USED = 1;
const PINGING = 2;
const RESETTING = 3;
const CLOSED = 4;
/** Closed by `close()` after its timeout while a caller still held it; a later release is a no-op. */
const ABANDONED = 5;

class Conn<C> {
  state = IDLE;
  uses = 0;
  checkedOutAt = 0;
  waitMs = 0;
  dead = false;
  deadError: unknown = undefined;
  leakReported = false;
  stack: string | undefined = undefined;
  constructor(
    readonly id: number,
    readonly conn: C,
    public generation: number,
    readonly createdAt: number,
    readonly expiresAt: number,
    public lastUsedAt: number,
  ) {}
}

/** One caller waiting in `acquire`. Fixed shape, no timer of its own. */
export class Waiter<C> {
  settled = false;
  resolve!: (conn: C) => void;
  reject!: (error: unknown) => void;
  signal: AbortSignal | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;
  stack: string | undefined = undefined;
  heapIndex = -1;
  constructor(
    readonly start: number,
    readonly timeoutMs: number,
  ) {}
  /** Computed, not stored: a stored double costs a heap number per waiter. */
  get deadline(): number {
    return this.start + this.timeoutMs;
  }
}

const PING_FALSE = 'the driver reported the connection dead (ping returned false)';

/**
 * The pool core: owns physical connections one by one through a {@link Driver}.
 *
 * Every event (acquire, check-in, connect done or failed, ping done or failed,
 * timer fired, clear, close) changes state in one place and then runs one pump
 * (`#pump`), in the manner of tarn's `_tryAcquireOrCreate` and the MongoDB
 * driver's `processWaitQueue`.
 */
export class Pool<C> extends PoolEmitter {
  readonly driver: Driver<C>;
  readonly options: Readonly<ResolvedPoolOptions>;
  readonly name: string;

  readonly #size: number;
  readonly #max: number;
  readonly #lifo: boolean;
  readonly #prePing: boolean;
  readonly #window: number;
  readonly #maxUses: number;
  readonly #leakMs: number;
  readonly #reset: boolean;
  readonly #instr: PoolInstrumentation | undefined;

  readonly #records = new Map<C, Conn<C>>();
  readonly #idle = new Deque<Conn<C>>();
  readonly #waiters = new Deque<Waiter<C>>();
  /** Waiters with a per-call timeout (the others expire in arrival order from the head of `#waiters`). */
  readonly #custom = new WaiterHeap<C, Waiter<C>>();
  readonly #closing = new Set<Promise<void>>();

  #live = 0;
  #open = 0;
  #used = 0;
  #pinging = 0;
  #resetting = 0;
  #connecting = 0;
  #generation = 0;
  #nextId = 0;
  #connectFailures = 0;
  #lastConnectError: unknown = undefined;
  #backoffUntil = 0;
  #backoffTimer: NodeJS.Timeout | undefined = undefined;
  #timer: NodeJS.Timeout | undefined = undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  #sweeper: NodeJS.Timeout | undefined = undefined;
  #pumping = false;
  #pumpAgain = false;
  #closed = false;
  #closePromise: Promise<void> | undefined = undefined;
  #drained: (() => void) | undefined = undefined;
  #connectAborts = new Set<AbortController>();
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
    this.#instr = resolved.telemetry === false || instrument === undefined ? undefined : instrument(this);
    this.#startSweeper();
    if (resolved.minIdle > 0) queueMicrotask(() => this.#pump());
  }

  // ---------------------------------------------------------------- acquire

  /** Check out a connection. Resolves with the driver's connection; pair with `release` or `invalidate`. */
  acquire(options?: AcquireOptions): Promise<C> {
    if (this.#closed) return this.#failFast('closed', new PoolClosedError());
    if (options !== undefined && options.signal?.aborted) {
      return this.#failFast('aborted', abortReason(options.signal));
    }
    if (this.#live === 0 && this.#idle.length > 0) {
      const rec = this.#takeReadyIdle();
      if (rec !== undefined) {
        this.#checkout(rec, 0, undefined);
        return Promise.resolve(rec.conn);
      }
    }
    return this.#enqueue(options);
  }

  /** The head idle connection if it can be handed out with no work (no ping, not stale). */
  #takeReadyIdle(): Conn<C> | undefined {
    const rec = this.#lifo ? this.#idle.peekLast() : this.#idle.peek();
    if (rec === undefined || rec.generation !== this.#generation || rec.dead) return undefined;
    const t = now();
    if (t >= rec.expiresAt) return undefined;
    if (this.#prePing && t - rec.lastUsedAt > this.#window) return undefined;
    if (this.driver.isAlive !== undefined && !this.#alive(rec)) return undefined;
    if (this.#lifo) this.#idle.pop();
    else this.#idle.shift();
    // keep minIdle warm: the fast path skips the pump, so refill here when it dipped
    if (this.#idle.length < this.options.minIdle && this.#open + this.#connecting < this.#size) {
      queueMicrotask(this.#pumpLater);
    }
    return rec;
  }

  #checkout(rec: Conn<C>, waitMs: number, stack: string | undefined): void {
    rec.state = USED;
    rec.uses++;
    rec.waitMs = waitMs;
    rec.checkedOutAt = now();
    this.#used++;
    if (this.#leakMs > 0) {
      rec.leakReported = false;
      rec.stack = stack ?? captureStack();
    }
    if (this.listeners.checkout !== undefined) this.emit('checkout', { connectionId: rec.id, waitMs });
  }

  #failFast(reason: CheckoutFailedReason, error: unknown): Promise<never> {
    if (this.listeners.checkoutFailed !== undefined)
      this.emit('checkoutFailed', { reason, error, waitMs: 0 });
    return Promise.reject(error);
  }

  #enqueue(options: AcquireOptions | undefined): Promise<C> {
    // Callers a new connection will serve are not queued; the others wait for a release.
    // `maxWaiting` bounds those (generic-pool's `maxWaitingClients` rule).
    if (this.#live - (this.#max - this.#open) >= this.options.maxWaiting) {
      const queued = this.#live - (this.#max - this.#open);
      return this.#failFast(
        'queueFull',
        new PoolQueueFullError(
          `pool '${this.name}' has ${queued} callers waiting for a connection to be released, ` +
            `the maximum (maxWaiting=${this.options.maxWaiting})`,
        ),
      );
    }
    let timeoutMs = this.options.acquireTimeoutMs;
    let custom = false;
    const signal = options?.signal;
    if (options !== undefined && options.timeoutMs !== undefined && options.timeoutMs !== timeoutMs) {
      const t = options.timeoutMs;
      if (typeof t !== 'number' || Number.isNaN(t) || t < 0) {
        return Promise.reject(
          new PoolConfigError(
            'timeoutMs',
            `invalid acquire option timeoutMs: got ${String(t)}, expected a number >= 0 or Infinity`,
          ),
        );
      }
      timeoutMs = t;
      custom = true;
    }
    // checked before the waiter is queued: a throw after that left a ghost waiter that took a connection
    if (
      signal !== undefined &&
      typeof (signal as Partial<AbortSignal> | null)?.addEventListener !== 'function'
    ) {
      return Promise.reject(
        new PoolConfigError('signal', 'invalid acquire option signal: expected an AbortSignal'),
      );
    }
    const start = now();
    const waiter = new Waiter<C>(start, timeoutMs);
    pendingWaiter = waiter as Waiter<unknown>;
    const promise = new Promise<C>(bindWaiter);
    if (this.#leakMs > 0) waiter.stack = captureStack();
    this.#waiters.push(waiter);
    // the head timer was let go (unref) when nobody waited; someone waits again
    if (this.#live++ === 0) {
      this.#timer?.ref();
      this.#backoffTimer?.ref();
    }
    if (timeoutMs !== Number.POSITIVE_INFINITY) {
      if (custom) this.#custom.push(waiter);
      const deadline = start + timeoutMs;
      if (deadline < this.#timerAt) this.#armTimer(deadline);
    }
    if (signal !== undefined) {
      waiter.signal = signal;
      waiter.onAbort = () => this.#giveUp(waiter, 'aborted', abortReason(signal));
      signal.addEventListener('abort', waiter.onAbort, { once: true });
    }
    // under a backlog (nothing idle, nothing more may open) the pump has nothing to do
    if (this.#idle.length > 0 || this.#open + this.#connecting < this.#max) this.#pump();
    return promise;
  }

  /** A waiter gives up (timeout, abort, close). It never takes a connection afterwards. */
  #giveUp(waiter: Waiter<C>, reason: CheckoutFailedReason, error: unknown): void {
    if (waiter.settled) return;
    this.#settle(waiter);
    const waitMs = now() - waiter.start;
    if (this.listeners.checkoutFailed !== undefined) this.emit('checkoutFailed', { reason, error, waitMs });
    waiter.reject(error);
    this.#compact();
  }

  #settle(waiter: Waiter<C>): void {
    waiter.settled = true;
    // nobody waits: a still-armed head timer must not keep the process alive
    if (--this.#live === 0) {
      this.#timer?.unref();
      this.#backoffTimer?.unref?.();
    }
    if (waiter.onAbort !== undefined) {
      waiter.signal!.removeEventListener('abort', waiter.onAbort);
      waiter.onAbort = undefined;
      waiter.signal = undefined;
    }
    if (waiter.heapIndex >= 0) this.#custom.remove(waiter);
  }

  /** Drop settled waiters from the queues once they outnumber the live ones (lazy deletion stays O(1) amortized). */
  #compact(): void {
    const q = this.#waiters;
    if (q.length > 64 && q.length > 2 * this.#live) q.filter(isLive);
  }

  #nextWaiter(): Waiter<C> | undefined {
    const q = this.#waiters;
    let w = q.shift();
    while (w !== undefined && w.settled) w = q.shift();
    return w;
  }

  #hand(rec: Conn<C>, waiter: Waiter<C>): void {
    this.#settle(waiter);
    this.#checkout(rec, now() - waiter.start, waiter.stack);
    waiter.resolve(rec.conn);
  }

  // ---------------------------------------------------------------- timeouts

  #armTimer(at: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#onTimer(), timerDelay(Math.ceil(at - now())));
  }

  #onTimer(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const t = performance.now();
    const q = this.#waiters;
    const defaultTimeout = this.options.acquireTimeoutMs;
    let next = Number.POSITIVE_INFINITY;
    // Waiters with the pool's timeout have monotone deadlines in arrival order: walk from the
    // head, skipping settled ones and those with their own timeout (they are in the heap).
    // Collect first: expiring compacts `q`, which would shift the indices under the walk.
    const expired: Waiter<C>[] = [];
    for (let i = 0; i < q.length; i++) {
      const w = q.at(i)!;
      if (w.settled || w.timeoutMs !== defaultTimeout) continue;
      if (w.deadline > t) {
        next = w.deadline;
        break;
      }
      expired.push(w);
    }
    for (const w of expired) this.#expire(w);
    while (q.peek()?.settled) q.shift();
    for (let w = this.#custom.peek(); w !== undefined; w = this.#custom.peek()) {
      if (w.deadline > t) {
        if (w.deadline < next) next = w.deadline;
        break;
      }
      this.#expire(w);
    }
    if (next !== Number.POSITIVE_INFINITY) this.#armTimer(next);
  }

  #expire(waiter: Waiter<C>): void {
    const cause = this.#lastConnectError;
    const error = new PoolTimeoutError(
      `timed out after ${waiter.timeoutMs} ms waiting for a connection from pool '${this.name}' ` +
        `(size ${this.#size}, max ${this.#max}, in use ${this.#used}, waiting ${this.#live})` +
        (cause === undefined ? '' : `; last connect error: ${errorMessage(cause)}`),
      cause === undefined ? undefined : { cause },
    );
    this.#giveUp(waiter, 'timeout', error);
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
    while (this.#live > 0 && idle.length > 0) {
      const rec = (this.#lifo ? idle.pop() : idle.shift())!;
      if (this.#discardIfUnfit(rec)) continue;
      if (this.#prePing && now() - rec.lastUsedAt > this.#window) {
        if (this.#pinging >= this.#live) {
          // enough pings in flight to serve everyone waiting
          if (this.#lifo) idle.push(rec);
          else idle.unshift(rec);
          return;
        }
        this.#ping(rec);
        continue;
      }
      this.#hand(rec, this.#nextWaiter()!);
    }
  }

  /** Close `rec` (already out of the idle list) if it must not be handed out. */
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
    if (this.driver.isAlive !== undefined && !this.#alive(rec)) {
      this.#invalidateRec(rec, new Error('the driver reported the connection closed'));
      return true;
    }
    return false;
  }

  #openConnections(): void {
    const opts = this.options;
    while (this.#connecting < opts.maxConnecting && this.#open + this.#connecting < this.#max) {
      const forWaiters = this.#live - this.#pinging - this.#connecting > 0;
      const forMinIdle =
        this.#idle.length + this.#connecting < opts.minIdle && this.#open + this.#connecting < this.#size;
      if (!forWaiters && !forMinIdle) return;
      if (this.#backoffUntil > 0) {
        if (performance.now() < this.#backoffUntil) return;
        this.#backoffUntil = 0;
      }
      this.#connect();
    }
  }

  // ---------------------------------------------------------------- connecting

  #connect(): void {
    const id = ++this.#nextId;
    this.#connecting++;
    const started = performance.now();
    const abort = new AbortController();
    this.#connectAborts.add(abort);
    let settled = false;
    let rec: Conn<C> | undefined;
    let deadEarly: { error: unknown } | undefined;
    const timeoutMs = this.options.connectTimeoutMs;
    const ctx: ConnectContext = {
      connectionId: id,
      timeoutMs,
      signal: abort.signal,
      observer: this.#instr?.observer,
      onDead: (error?: unknown) => {
        if (rec !== undefined) this.#markDead(rec, error);
        else deadEarly = { error };
      },
    };
    let timer: NodeJS.Timeout | undefined;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      this.#connectAborts.delete(abort);
      this.#connecting--;
      this.#connectFailed(error, performance.now() - started);
    };
    if (timeoutMs !== Number.POSITIVE_INFINITY) {
      timer = setTimeout(() => {
        const error = new ConnectError(
          `connecting to ${this.#targetText()} timed out after ${timeoutMs} ms (connectTimeoutMs)`,
        );
        abort.abort(error);
        fail(error);
      }, timerDelay(timeoutMs));
    }
    let attempt: Promise<C>;
    try {
      attempt = Promise.resolve(this.driver.connect(ctx));
    } catch (error) {
      attempt = Promise.reject(error);
    }
    attempt.then(
      (conn) => {
        if (settled) {
          // timed out or the pool closed while connecting: this connection is nobody's
          this.#closeQuietly(conn);
          return;
        }
        settled = true;
        if (timer !== undefined) clearTimeout(timer);
        this.#connectAborts.delete(abort);
        this.#connecting--;
        if (this.#closed) {
          this.#closeQuietly(conn);
          this.#checkDrained();
          return;
        }
        if (this.#records.has(conn)) {
          this.#closeQuietly(conn);
          this.#connectFailed(
            new ConnectError(`the driver returned a connection that is already in pool '${this.name}'`),
            performance.now() - started,
          );
          return;
        }
        // a connection reported dead while connecting is adopted dead: never handed out
        rec = this.#adopt(id, conn, performance.now() - started, deadEarly);
        this.#pump();
      },
      (error) => fail(error),
    );
  }

  #adopt(id: number, conn: C, durationMs: number, deadEarly?: { error: unknown }): Conn<C> {
    const t = performance.now();
    const life = this.options.maxLifetimeMs;
    const expiresAt = life > 0 ? t + life * (1 - 0.025 * Math.random()) : Number.POSITIVE_INFINITY;
    const rec = new Conn(id, conn, this.#generation, t, expiresAt, t);
    this.#records.set(conn, rec);
    this.#open++;
    this.#connectFailures = 0;
    this.#lastConnectError = undefined;
    if (this.listeners.connect !== undefined) this.emit('connect', { connectionId: id, durationMs });
    if (deadEarly !== undefined) {
      rec.dead = true;
      rec.deadError = deadEarly.error ?? new Error('the connection was closed by the server or the network');
    }
    // a fresh connection counts as just used: no ping before its first checkout
    this.#returnToPool(rec);
    this.#settleReady();
    return rec;
  }

  #connectFailed(raw: unknown, durationMs: number): void {
    const error = isPoolError(raw)
      ? raw
      : new ConnectError(`could not connect to ${this.#targetText()}: ${maskUrl(errorMessage(raw))}`, {
          cause: raw,
        });
    this.#lastConnectError = error;
    this.#connectFailures++;
    if (this.listeners.connectFailed !== undefined) this.emit('connectFailed', { error, durationMs });
    for (const r of this.#ready.splice(0)) r.reject(error);
    if (this.#closed) {
      this.#checkDrained();
      return;
    }
    // the caller that waited longest learns why (SQLAlchemy, pg-pool and CMAP do the same)
    if (this.#live > this.#connecting + this.#pinging) {
      const w = this.#nextWaiter();
      if (w !== undefined) {
        this.#giveUp(w, 'connectError', error);
      }
    }
    // back off before the next attempt: 100 ms doubling to 2 s, jittered
    const delay =
      Math.min(2000, 100 * 2 ** Math.min(this.#connectFailures - 1, 5)) * (0.75 + Math.random() / 2);
    this.#backoffUntil = performance.now() + delay;
    if (this.#backoffTimer !== undefined) clearTimeout(this.#backoffTimer);
    this.#backoffTimer = setTimeout(() => {
      this.#backoffTimer = undefined;
      this.#backoffUntil = 0;
      this.#pump();
    }, delay);
    // a caller waiting for the next attempt keeps the process alive (as the head timer does)
    if (this.#live === 0) this.#backoffTimer.unref?.();
    this.#pump();
  }

  #targetText(): string {
    const t = this.driver.target;
    if (t.host === undefined) return `pool '${this.name}'`;
    return `${t.system} at ${t.host}${t.port === undefined ? '' : `:${t.port}`}${t.database ? `/${t.database}` : ''}`;
  }

  // ---------------------------------------------------------------- pings

  #ping(rec: Conn<C>): void {
    rec.state = PINGING;
    this.#pinging++;
    let done = false;
    let timedOut = false;
    const timeoutMs = this.options.connectTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const finish = (error: unknown) => {
      if (done) return;
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      // close() gave up waiting for this ping and already closed (and uncounted) the connection
      if (rec.state !== PINGING) return;
      this.#pinging--;
      if (error === undefined) {
        rec.lastUsedAt = now();
        this.#returnToPool(rec);
      } else {
        // a ping that failed with a disconnect (or timed out): the server may have dropped
        // every connection, so start a new generation; a plain "dead" answer retires this one only
        this.#invalidateRec(rec, error);
        if (timedOut || this.#isDisconnect(error)) this.clear();
      }
      this.#checkDrained();
      this.#pump();
    };
    if (timeoutMs !== Number.POSITIVE_INFINITY) {
      timer = setTimeout(() => {
        timedOut = true;
        finish(new Error(`pre-ping timed out after ${timeoutMs} ms`));
      }, timerDelay(timeoutMs));
    }
    let result: Promise<unknown>;
    try {
      result = Promise.resolve(this.driver.ping(rec.conn));
    } catch (error) {
      result = Promise.reject(error);
    }
    result.then(
      (ok) => finish(ok === false ? new Error(PING_FALSE) : undefined),
      (error) => finish(error ?? new Error('ping failed')),
    );
  }

  // ---------------------------------------------------------------- release

  /** Return a checked-out connection. A second release, or a connection of another pool, throws `PoolMisuseError`. */
  release(conn: C): void {
    const rec = this.#checkedOut('release', conn);
    if (rec !== undefined) this.#checkin(rec);
  }

  /** Close a checked-out connection instead of returning it. */
  invalidate(conn: C, error?: unknown): void {
    const rec = this.#checkedOut('invalidate', conn);
    if (rec === undefined) return;
    this.#invalidateCheckedOut(rec, error);
    this.#pump();
  }

  /**
   * The record of a connection handed back by its holder, or undefined when `close()`
   * already closed it under the holder (then the hand-back is a no-op). Anything else
   * (a foreign connection, a second hand-back) throws `PoolMisuseError`.
   */
  #checkedOut(method: string, conn: C): Conn<C> | undefined {
    const rec = this.#records.get(conn);
    if (rec !== undefined && rec.state === USED) return rec;
    if (rec !== undefined && rec.state === ABANDONED) {
      this.#records.delete(conn);
      return undefined;
    }
    throw this.#misuse(method, rec);
  }

  /** Close a checked-out connection instead of checking it in (its holder is done with it). */
  #invalidateCheckedOut(rec: Conn<C>, error: unknown): void {
    this.#used--;
    this.#emitCheckin(rec);
    this.#invalidateRec(rec, error);
    this.#checkDrained();
  }

  #misuse(method: string, rec: Conn<C> | undefined): PoolMisuseError {
    if (rec === undefined) {
      return new PoolMisuseError(
        `${method}(): this connection is not checked out from pool '${this.name}' ` +
          '(it belongs to another pool, was already closed, or was released twice)',
      );
    }
    return new PoolMisuseError(
      `${method}(): connection ${rec.id} of pool '${this.name}' is not checked out (was it released twice?)`,
    );
  }

  #emitCheckin(rec: Conn<C>): void {
    if (this.listeners.checkin !== undefined) {
      this.emit('checkin', { connectionId: rec.id, heldMs: now() - rec.checkedOutAt });
    }
  }

  #checkin(rec: Conn<C>): void {
    this.#used--;
    rec.lastUsedAt = now();
    rec.stack = undefined;
    if (this.listeners.checkin !== undefined) {
      this.emit('checkin', { connectionId: rec.id, heldMs: rec.lastUsedAt - rec.checkedOutAt });
    }
    if (rec.uses >= this.#maxUses) {
      this.#destroy(rec, 'maxUses');
      this.#afterClose();
      return;
    }
    if (this.#reset) {
      let pending: Promise<void> | void;
      try {
        pending = this.driver.reset!(rec.conn);
      } catch (error) {
        this.#invalidateRec(rec, error);
        this.#afterClose();
        return;
      }
      if (pending !== undefined && typeof (pending as Promise<void>).then === 'function') {
        rec.state = RESETTING;
        this.#resetting++;
        // a reset that never settles would hold the slot forever: give up like a hung ping
        const timeoutMs = this.options.connectTimeoutMs;
        let timer: NodeJS.Timeout | undefined;
        const failed = (error: unknown) => {
          if (timer !== undefined) clearTimeout(timer);
          if (rec.state !== RESETTING) return;
          this.#resetting--;
          this.#invalidateRec(rec, error);
          this.#afterClose();
        };
        if (timeoutMs !== Number.POSITIVE_INFINITY) {
          timer = setTimeout(
            () => failed(new Error(`reset timed out after ${timeoutMs} ms`)),
            timerDelay(timeoutMs),
          );
        }
        (pending as Promise<void>).then(() => {
          if (timer !== undefined) clearTimeout(timer);
          if (rec.state !== RESETTING) return;
          this.#resetting--;
          this.#returnToPool(rec);
          this.#checkDrained();
          this.#pump();
        }, failed);
        return;
      }
    }
    this.#returnToPool(rec);
  }

  /** Put a connection that is free again where it belongs: to the longest waiter, to the idle list, or closed. */
  #returnToPool(rec: Conn<C>): void {
    if (this.#closed) {
      this.#destroy(rec, 'poolClosed');
      this.#checkDrained();
      return;
    }
    if (this.#discardIfUnfit(rec)) {
      this.#afterClose();
      return;
    }
    if (this.#live > 0) {
      const w = this.#nextWaiter();
      if (w !== undefined) {
        this.#hand(rec, w);
        return;
      }
    }
    if (this.#open > this.#size) {
      this.#destroy(rec, 'overflow');
      this.#afterClose();
      return;
    }
    rec.state = IDLE;
    this.#idle.push(rec);
  }

  #afterClose(): void {
    if (this.#closed) this.#checkDrained();
    else this.#pump();
  }

  // ---------------------------------------------------------------- closing connections

  #markDead(rec: Conn<C>, error: unknown): void {
    if (rec.dead || rec.state === CLOSED || rec.state === ABANDONED) return;
    rec.dead = true;
    rec.deadError = error ?? new Error('the connection was closed by the server or the network');
    if (rec.state === IDLE) {
      this.#idle.remove(rec);
      this.#invalidateRec(rec, rec.deadError);
      this.#afterClose();
    }
  }

  #invalidateRec(rec: Conn<C>, error: unknown): void {
    if (rec.state === CLOSED || rec.state === ABANDONED) return;
    if (this.listeners.invalidate !== undefined) this.emit('invalidate', { connectionId: rec.id, error });
    this.#destroy(rec, 'invalidated');
  }

  /** Close one connection that is no longer idle nor handed out. */
  #destroy(rec: Conn<C>, reason: CloseReason, keepRecord = false): void {
    if (rec.state === CLOSED || rec.state === ABANDONED) return;
    rec.state = keepRecord ? ABANDONED : CLOSED;
    this.#open--;
    if (!keepRecord) this.#records.delete(rec.conn);
    if (this.listeners.close !== undefined) this.emit('close', { connectionId: rec.id, reason });
    this.#closeQuietly(rec.conn);
  }

  #closeQuietly(conn: C): void {
    let p: Promise<void>;
    try {
      p = Promise.resolve(this.driver.close(conn));
    } catch {
      p = Promise.resolve();
    }
    const tracked: Promise<void> = p.then(
      () => undefined,
      () => undefined,
    );
    this.#closing.add(tracked);
    void tracked.then(() => this.#closing.delete(tracked));
  }

  // ---------------------------------------------------------------- use / transaction

  /** Acquire, run `fn`, release. A disconnect error invalidates the connection and clears the pool. */
  async use<T>(fn: (conn: C) => Promise<T> | T, options?: AcquireOptions): Promise<T> {
    if (typeof fn !== 'function') throw new TypeError('pool.use(fn): fn must be a function');
    const conn = await this.acquire(options);
    const rec = this.#records.get(conn)!;
    const checkout = rec.uses;
    if (this.#instr?.acquired !== undefined) this.#instr.acquired(rec.waitMs, rec.id);
    let result: T;
    try {
      result = await fn(conn);
    } catch (error) {
      this.#finish(rec, checkout, error);
      throw error;
    }
    this.#finish(rec, checkout, undefined);
    return result;
  }

  /** Release (or invalidate after a disconnect) unless the caller already did. */
  #finish(rec: Conn<C>, checkout: number, error: unknown): void {
    if (rec.state !== USED || rec.uses !== checkout) return;
    if (error !== undefined && (rec.dead || this.#isDisconnect(error))) {
      this.#invalidateCheckedOut(rec, error);
      this.clear();
      return;
    }
    this.#checkin(rec);
  }

  /** The driver's cheap liveness check; a check that throws means dead. */
  #alive(rec: Conn<C>): boolean {
    try {
      return this.driver.isAlive!(rec.conn);
    } catch {
      return false;
    }
  }

  #isDisconnect(error: unknown): boolean {
    try {
      return this.driver.isDisconnect(error);
    } catch {
      return false;
    }
  }

  /**
   * BEGIN, run `fn`, COMMIT; ROLLBACK and rethrow on error. `retries` re-runs the
   * whole function on a serialization failure or deadlock, with jittered backoff.
   */
  async transaction<T>(fn: (conn: C) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    if (typeof fn !== 'function') throw new TypeError('pool.transaction(fn): fn must be a function');
    const driver = this.driver;
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
    const begin = { isolation: options.isolation, readOnly: options.readOnly };
    const acquireOptions =
      options.signal === undefined && options.timeoutMs === undefined
        ? undefined
        : { signal: options.signal, timeoutMs: options.timeoutMs };
    const run = async (scope: TransactionScope | undefined): Promise<T> => {
      let previous: unknown;
      for (let attempt = 1; ; attempt++) {
        scope?.attempt(attempt, previous);
        try {
          return await this.#attempt(fn, begin, acquireOptions);
        } catch (error) {
          let retryable = false;
          try {
            retryable = attempt <= retries && driver.isRetryable?.(error) === true;
          } catch {}
          if (!retryable) throw error;
          previous = error;
          await sleep(Math.min(1000, 10 * 2 ** (attempt - 1)) * Math.random());
        }
      }
    };
    const instr = this.#instr;
    if (instr?.transaction !== undefined) {
      return instr.transaction({ isolation: begin.isolation, readOnly: begin.readOnly, retries }, run);
    }
    return run(undefined);
  }

  async #attempt<T>(
    fn: (conn: C) => Promise<T>,
    begin: { isolation?: TransactionOptions['isolation']; readOnly?: boolean },
    acquireOptions: AcquireOptions | undefined,
  ): Promise<T> {
    const driver = this.driver;
    const conn = await this.acquire(acquireOptions);
    const rec = this.#records.get(conn)!;
    const checkout = rec.uses;
    if (this.#instr?.acquired !== undefined) this.#instr.acquired(rec.waitMs, rec.id);
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
          if (!rec.dead && !this.#isDisconnect(error)) {
            try {
              await driver.rollback!(conn);
            } catch (rollbackError) {
              // a connection that cannot roll back must not be reused
              if (rec.state === USED && rec.uses === checkout) {
                this.#invalidateCheckedOut(rec, rollbackError);
                this.#pump();
              }
            }
          }
          throw error;
        }
      }
    } catch (error) {
      this.#finish(rec, checkout, error);
      throw error;
    }
    this.#finish(rec, checkout, undefined);
    return result;
  }

  // ---------------------------------------------------------------- clear / close

  /** Start a new generation: idle connections close now, checked-out ones at check-in. */
  clear(): void {
    if (this.#closed) return;
    this.#generation++;
    const idle = this.#idle.toArray();
    this.#idle.clear();
    if (this.listeners.clear !== undefined) this.emit('clear', { generation: this.#generation });
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
    const timeoutMs = options?.timeoutMs ?? 30_000;
    if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs) || timeoutMs < 0) {
      return Promise.reject(
        new PoolConfigError(
          'timeoutMs',
          `invalid close option timeoutMs: got ${String(timeoutMs)}, expected a number >= 0 or Infinity`,
        ),
      );
    }
    this.#closed = true;
    this.#stopTimers();
    for (let w = this.#nextWaiter(); w !== undefined; w = this.#nextWaiter()) {
      this.#giveUp(
        w,
        'closed',
        new PoolClosedError('the pool was closed while this caller waited for a connection'),
      );
    }
    for (const abort of this.#connectAborts)
      abort.abort(new PoolClosedError('the pool was closed while connecting'));
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
        if (timeoutMs !== Number.POSITIVE_INFINITY) timer = setTimeout(resolve, timerDelay(timeoutMs));
      });
      if (timer !== undefined) clearTimeout(timer);
      this.#drained = undefined;
      // whatever is still checked out is closed under its holder; a later release is a no-op
      for (const rec of [...this.#records.values()]) {
        if (rec.state === USED) {
          this.#used--;
          this.#destroy(rec, 'poolClosed', true);
        } else if (rec.state !== CLOSED && rec.state !== ABANDONED) {
          // pinging or resetting: uncount it now; their completion finds the connection closed
          if (rec.state === PINGING) this.#pinging--;
          else if (rec.state === RESETTING) this.#resetting--;
          this.#destroy(rec, 'poolClosed');
        }
      }
    }
    while (this.#closing.size > 0) await Promise.all([...this.#closing]);
    try {
      this.#instr?.dispose?.();
    } catch {}
  }

  #isDrained(): boolean {
    return this.#used === 0 && this.#pinging === 0 && this.#resetting === 0 && this.#connecting === 0;
  }

  #checkDrained(): void {
    if (this.#drained !== undefined && this.#isDrained()) this.#drained();
  }

  #stopTimers(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    if (this.#backoffTimer !== undefined) clearTimeout(this.#backoffTimer);
    this.#backoffTimer = undefined;
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---------------------------------------------------------------- ready / stats

  /** Resolves when `minIdle` connections are open; rejects with the connect error if they cannot be opened. */
  ready(): Promise<void> {
    if (this.#closed) return Promise.reject(new PoolClosedError());
    if (this.#open >= this.options.minIdle) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#ready.push({ resolve, reject });
      this.#pump();
    });
  }

  #settleReady(): void {
    if (this.#ready.length > 0 && this.#open >= this.options.minIdle) {
      for (const r of this.#ready.splice(0)) r.resolve();
    }
  }

  /** A snapshot of the pool's counters; cheap, always current. */
  stats(): PoolStats {
    const open = this.#open;
    return {
      size: open + this.#connecting,
      idle: this.#idle.length,
      used: this.#used + this.#pinging + this.#resetting,
      pending: this.#live,
      connecting: this.#connecting,
      overflow: open > this.#size ? open - this.#size : 0,
      max: this.#max,
      generation: this.#generation,
    };
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  // ---------------------------------------------------------------- housekeeping

  #startSweeper(): void {
    const o = this.options;
    const periods = [o.idleTimeoutMs, o.maxLifetimeMs, o.leakTimeoutMs].filter((p) => p > 0);
    if (periods.length === 0) return;
    const period = Math.min(30_000, Math.max(5, Math.floor(Math.min(...periods) / 4)));
    this.#sweeper = setInterval(() => this.#sweep(), period);
    this.#sweeper.unref?.();
  }

  /** Close idle connections past their idle timeout or lifetime, report leaks, refill `minIdle`. */
  #sweep(): void {
    if (this.#closed) return;
    const t = performance.now();
    const o = this.options;
    if (this.#idle.length > 0) {
      const idleLimit = o.idleTimeoutMs;
      // idle connections beyond minIdle may close (HikariCP); counting used ones too closed warm
      // idle ones under load, and the pump reopened them at once: churn every idleTimeoutMs
      let keep = this.#idle.length - o.minIdle;
      const expired: [Conn<C>, CloseReason][] = [];
      // oldest-used first, so the most recently used ones stay warm
      const byAge = this.#idle.toArray().sort((a, b) => a.lastUsedAt - b.lastUsedAt);
      // the ones past their lifetime go anyway: they do not count toward minIdle
      for (const rec of byAge) if (t >= rec.expiresAt) keep--;
      for (const rec of byAge) {
        if (t >= rec.expiresAt) expired.push([rec, 'recycled']);
        else if (idleLimit > 0 && keep > 0 && t - rec.lastUsedAt >= idleLimit) {
          expired.push([rec, 'idle']);
          keep--;
        }
      }
      if (expired.length > 0) {
        const gone = new Set(expired.map(([rec]) => rec));
        this.#idle.filter((rec) => !gone.has(rec));
        for (const [rec, reason] of expired) this.#destroy(rec, reason);
      }
    }
    if (this.#leakMs > 0 && this.listeners.leak !== undefined) {
      for (const rec of this.#records.values()) {
        if (rec.state === USED && !rec.leakReported && t - rec.checkedOutAt >= this.#leakMs) {
          rec.leakReported = true;
          this.emit('leak', { connectionId: rec.id, heldMs: t - rec.checkedOutAt, stack: rec.stack ?? '' });
        }
      }
    }
    this.#pump();
  }
}

let pendingWaiter: Waiter<unknown> | undefined;

/** One shared promise executor: no closure allocated per waiter. */
function bindWaiter(resolve: (conn: any) => void, reject: (error: unknown) => void): void {
  const w = pendingWaiter!;
  pendingWaiter = undefined;
  w.resolve = resolve;
  w.reject = reject;
}

function isLive<C>(w: Waiter<C>): boolean {
  return !w.settled;
}

function captureStack(): string {
  const holder: { stack?: string } = {};
  Error.captureStackTrace(holder, captureStack);
  // the header is 'Error' or, under a custom prepareStackTrace (source-map-support, vitest), 'Error: '
  return (holder.stack ?? '').replace(/^Error[^\n]*\n/, 'acquired at:\n');
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * Node fires a timer of more than 2^31 - 1 ms after 1 ms (TimeoutOverflowWarning): clamp, so a huge
 * timeout waits about 24.8 days instead of firing at once (the waiter timer re-arms for the rest).
 */
function timerDelay(ms: number): number {
  return Math.max(0, Math.min(ms, 2_147_483_647));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function checkDriver(driver: unknown): asserts driver is Driver<unknown> {
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
