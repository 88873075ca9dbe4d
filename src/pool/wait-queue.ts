/**
 * The waiting line: callers of `acquire` that no idle connection could serve at once.
 *
 * Owns: the `Waiter` (one per waiting caller, fixed shape, no timer of its own); the
 * FIFO of waiters with lazy deletion (a waiter that gives up is only marked, and the
 * queue is compacted once settled ones outnumber live ones); the one head timer that
 * serves every waiter on the pool's default timeout (their deadlines are monotone in
 * arrival order); a heap for callers with their own `timeoutMs`; and abort-signal
 * wiring. It knows nothing of connections: the pool takes a waiter with `take()` and
 * resolves it, and learns of every give-up through `onGiveUp`.
 */

import * as clock from './clock.js';
import { Deque } from './deque.js';
import { timerDelay } from './driver-calls.js';
import { abortReason } from './errors.js';
import type { CheckoutFailedReason } from './types.js';
import { WaiterHeap } from './waiter-heap.js';

// this module's own constant, which V8 folds (an imported binding is read through its cell: pool.ts)
const { now, preciseNow } = clock;

/** One caller waiting in `acquire`. Fixed shape, no timer of its own. */
export class Waiter<C> {
  settled = false;
  /** Resolves the caller's promise: with the connection, or with the pool's record of it (`wantsRecord`). */
  resolve!: (value: C) => void;
  reject!: (error: unknown) => void;
  signal: AbortSignal | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;
  stack: string | undefined = undefined;
  heapIndex = -1;
  constructor(
    /** When it started waiting (tick clock). */
    readonly start: number,
    readonly timeoutMs: number,
    /**
     * The pool's own loans (`use`, `transaction`) wait for the pool's record of the
     * connection, `acquire`'s callers for the connection itself.
     */
    readonly wantsRecord: boolean,
  ) {}
  /** Computed, not stored: a stored double costs a heap number per waiter. */
  get deadline(): number {
    return this.start + this.timeoutMs;
  }
}

/** What the queue needs of its pool. */
export interface WaitQueueHost<C> {
  /** A waiter gave up (timeout, abort, close, connect error): emit `checkoutFailed`. */
  onGiveUp(waiter: Waiter<C>, reason: CheckoutFailedReason, error: unknown, waitMs: number): void;
  /** The error for a waiter whose time ran out. */
  timeoutError(waiter: Waiter<C>): unknown;
  /** Somebody waits again (`true`) or nobody waits any more (`false`): timers the pool keeps for
   * waiters (the connect back-off) hold the process alive only while someone waits. */
  onWaiting(waiting: boolean): void;
}

export class WaitQueue<C> {
  readonly #host: WaitQueueHost<C>;
  readonly #defaultTimeoutMs: number;
  readonly #queue = new Deque<Waiter<C>>();
  /** Waiters with a per-call timeout (the others expire in arrival order from the head of `#queue`). */
  readonly #custom = new WaiterHeap<C, Waiter<C>>();
  /** Waiters not yet settled. */
  #live = 0;
  #timer: NodeJS.Timeout | undefined = undefined;
  /** When the head timer fires (tick clock). */
  #timerAt = Number.POSITIVE_INFINITY;

  constructor(defaultTimeoutMs: number, host: WaitQueueHost<C>) {
    this.#defaultTimeoutMs = defaultTimeoutMs;
    this.#host = host;
  }

  /** Callers waiting now. */
  get length(): number {
    return this.#live;
  }

  /**
   * Queue a caller; `timeoutMs` differs from the pool's default only for a per-call
   * timeout. The promise resolves with what the pool hands the waiter (`wantsRecord`).
   */
  add(
    timeoutMs: number,
    signal: AbortSignal | undefined,
    stack: string | undefined,
    wantsRecord: boolean,
  ): Promise<C> {
    const start = now();
    const waiter = new Waiter<C>(start, timeoutMs, wantsRecord);
    pendingWaiter = waiter as Waiter<unknown>;
    const promise = new Promise<C>(bindWaiter);
    waiter.stack = stack;
    this.#queue.push(waiter);
    if (this.#live++ === 0) this.#waitingAgain();
    if (timeoutMs !== this.#defaultTimeoutMs) {
      this.#addCustom(waiter);
    } else if (start + timeoutMs < this.#timerAt) {
      // the head timer serves every default-timeout waiter; a later one never moves it
      this.#arm(start + timeoutMs);
    }
    if (signal !== undefined) this.#watch(waiter, signal);
    return promise;
  }

  /** The head timer was let go (unref) when nobody waited; someone waits again. */
  #waitingAgain(): void {
    if (this.#timer !== undefined) this.#timer.ref();
    this.#host.onWaiting(true);
  }

  /** A waiter with its own timeout: into the heap, and the head timer earlier if it must. */
  #addCustom(waiter: Waiter<C>): void {
    if (waiter.timeoutMs === Number.POSITIVE_INFINITY) return;
    this.#custom.push(waiter);
    const deadline = waiter.start + waiter.timeoutMs;
    if (deadline < this.#timerAt) this.#arm(deadline);
  }

  #watch(waiter: Waiter<C>, signal: AbortSignal): void {
    waiter.signal = signal;
    waiter.onAbort = () => this.giveUp(waiter, 'aborted', abortReason(signal));
    signal.addEventListener('abort', waiter.onAbort, { once: true });
  }

  /** The longest-waiting live caller, settled and out of the line; resolve it next. */
  take(): Waiter<C> | undefined {
    const q = this.#queue;
    let w = q.shift();
    while (w !== undefined && w.settled) w = q.shift();
    if (w !== undefined) this.#settle(w);
    return w;
  }

  /** A waiter gives up (timeout, abort, close, connect error). It never takes a connection afterwards. */
  giveUp(waiter: Waiter<C>, reason: CheckoutFailedReason, error: unknown): void {
    if (waiter.settled) return;
    this.#settle(waiter);
    this.#host.onGiveUp(waiter, reason, error, now() - waiter.start);
    waiter.reject(error);
    this.#compact();
  }

  /** The longest-waiting caller gives up (it learns why a connect failed); false when nobody waits. */
  giveUpFirst(reason: CheckoutFailedReason, error: unknown): boolean {
    const w = this.take();
    if (w === undefined) return false;
    this.#host.onGiveUp(w, reason, error, now() - w.start);
    w.reject(error);
    return true;
  }

  /** Every waiter gives up with a fresh `error()` (the pool closes); the head timer stops. */
  giveUpAll(reason: CheckoutFailedReason, error: () => unknown): void {
    this.stop();
    while (this.giveUpFirst(reason, error())) {}
  }

  /** Stop the head timer. */
  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }

  #settle(waiter: Waiter<C>): void {
    waiter.settled = true;
    // nobody waits: a still-armed head timer must not keep the process alive
    if (--this.#live === 0) {
      if (this.#timer !== undefined) this.#timer.unref();
      this.#host.onWaiting(false);
    }
    if (waiter.onAbort !== undefined) {
      waiter.signal!.removeEventListener('abort', waiter.onAbort);
      waiter.onAbort = undefined;
      waiter.signal = undefined;
    }
    if (waiter.heapIndex >= 0) this.#custom.remove(waiter);
  }

  /** Drop settled waiters from the queue once they outnumber the live ones (lazy deletion stays O(1) amortized). */
  #compact(): void {
    const q = this.#queue;
    if (q.length > 64 && q.length > 2 * this.#live) q.filter(isLive);
  }

  #arm(at: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#onTimer(), timerDelay(Math.ceil(at - now())));
  }

  #onTimer(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const t = preciseNow();
    const q = this.#queue;
    const defaultTimeout = this.#defaultTimeoutMs;
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
    if (next !== Number.POSITIVE_INFINITY) this.#arm(next);
  }

  #expire(waiter: Waiter<C>): void {
    this.giveUp(waiter, 'timeout', this.#host.timeoutError(waiter));
  }
}

let pendingWaiter: Waiter<unknown> | undefined;

/** One shared promise executor: no closure allocated per waiter. */
function bindWaiter(resolve: (value: any) => void, reject: (error: unknown) => void): void {
  const w = pendingWaiter!;
  pendingWaiter = undefined;
  w.resolve = resolve;
  w.reject = reject;
}

function isLive<C>(w: Waiter<C>): boolean {
  return !w.settled;
}
