/**
 * Housekeeping: the periodic sweep of a pool, written against a narrow handle of the
 * pool (`HousekeepingHandle`) rather than its internals.
 *
 * Owns: the sweeper interval (its period: a quarter of the shortest of `idleTimeoutMs`,
 * `maxLifetimeMs` and `leakTimeoutMs`, within 5 ms and 30 s; unref'd; none when all three
 * are off); which idle connections a sweep retires (past their lifetime: 'recycled'; past
 * `idleTimeoutMs`, oldest-used first, only beyond `minIdle`: 'idle'); leak reports for
 * connections checked out longer than `leakTimeoutMs` (once per checkout); and the pump
 * at the end of every sweep, which refills `minIdle`. It changes no state itself: the
 * pool takes the retired records out of its idle list and closes them.
 *
 * An idle timeout under `FINE_IDLE_BELOW_MS` (20 ms) is also timed by one one-shot timer
 * at the earliest idle deadline (the way pg-pool times each idle client, with one timer
 * instead of one per client): the sweeper's 5 ms floor would be a quarter or more of it.
 * The pool tells `wentIdle()` when a connection enters the idle list, only in that mode,
 * so a normal idle timeout costs the check-in nothing.
 */
import { preciseNow } from './clock.js';
import { type Conn, USED } from './connection-record.js';
import type { CloseReason, ResolvedPoolOptions } from './types.js';

/** The slice of a pool that housekeeping needs. */
export interface HousekeepingHandle<C> {
  readonly options: Readonly<ResolvedPoolOptions>;
  /** True once `close()` was called: a sweep then does nothing. */
  closed(): boolean;
  /** The idle records, in check-in order (a copy). */
  idle(): Conn<C>[];
  /** Take these records out of the idle list and close each for its reason, in order. */
  retire(expired: [Conn<C>, CloseReason][]): void;
  /** Every record the pool holds, for the leak check. */
  records(): Iterable<Conn<C>>;
  /** Somebody listens to `leak`. */
  watchingLeaks(): boolean;
  /** Emit `leak` for `rec`, checked out for `heldMs`. */
  leak(rec: Conn<C>, heldMs: number): void;
  /** Run the pump (it refills `minIdle`). */
  pump(): void;
}

/** Idle timeouts shorter than this get the one-shot idle timer (see above). */
export const FINE_IDLE_BELOW_MS = 20;

export class Housekeeper<C> {
  readonly #h: HousekeepingHandle<C>;
  #timer: NodeJS.Timeout | undefined = undefined;
  /** The one-shot timer at the earliest idle deadline (only for an idle timeout under 20 ms). */
  #idleTimer: NodeJS.Timeout | undefined = undefined;
  /** The deadline `#idleTimer` was armed for (precise clock). */
  #idleDeadline = 0;
  /** True when the idle timeout is timed by `#idleTimer`: the pool then calls `wentIdle()`. */
  readonly timesIdle: boolean;

  /** Starts the sweeper when idle timeout, lifetime or leak detection is on. */
  constructor(handle: HousekeepingHandle<C>) {
    this.#h = handle;
    const o = handle.options;
    this.timesIdle = o.idleTimeoutMs > 0 && o.idleTimeoutMs < FINE_IDLE_BELOW_MS;
    const periods = [o.idleTimeoutMs, o.maxLifetimeMs, o.leakTimeoutMs].filter((p) => p > 0);
    if (periods.length === 0) return;
    const period = Math.min(30_000, Math.max(5, Math.floor(Math.min(...periods) / 4)));
    this.#timer = setInterval(() => this.sweep(), period);
    this.#timer.unref?.();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  /** A connection entered the idle list (called only when `timesIdle`): arm the idle timer if none is. */
  wentIdle(): void {
    if (this.#idleTimer === undefined) this.#armIdle();
  }

  /**
   * Arm the idle timer at the earliest deadline a sweep could retire a connection for
   * idleness: the least recently used idle one's, when more than `minIdle` are idle.
   * Connections enter the idle list in time order, so a timer already armed is never
   * later than a newcomer's deadline.
   */
  #armIdle(): void {
    const h = this.#h;
    if (h.closed()) return;
    const idle = h.idle();
    if (idle.length <= h.options.minIdle) return;
    let oldest = Number.POSITIVE_INFINITY;
    for (const rec of idle) if (rec.lastUsedAt < oldest) oldest = rec.lastUsedAt;
    const deadline = oldest + h.options.idleTimeoutMs;
    this.#idleDeadline = deadline;
    this.#idleTimer = setTimeout(this.#idleDue, Math.max(0, deadline - preciseNow()));
    this.#idleTimer.unref?.();
  }

  // Node fired the timer for its deadline (timers run on whole milliseconds of the loop's
  // clock, so possibly a fraction of a millisecond before it on the precise clock): that
  // deadline has come, as a pg-pool idle timer's has when it fires
  readonly #idleDue = (): void => {
    this.#idleTimer = undefined;
    this.sweep(this.#idleDeadline);
  };

  /**
   * Close idle connections past their idle timeout or lifetime, report leaks, refill
   * `minIdle`. `idleAt`: the idle timer's deadline, the time idleness is judged at when
   * the precise clock has not quite reached it.
   */
  sweep(idleAt = 0): void {
    const h = this.#h;
    if (h.closed()) return;
    const t = preciseNow();
    const idleT = idleAt > t ? idleAt : t;
    const o = h.options;
    const idle = h.idle();
    if (idle.length > 0) {
      const idleLimit = o.idleTimeoutMs;
      // idle connections beyond minIdle may close (HikariCP); counting used ones too closed warm
      // idle ones under load, and the pump reopened them at once: churn every idleTimeoutMs
      let keep = idle.length - o.minIdle;
      const expired: [Conn<C>, CloseReason][] = [];
      // oldest-used first, so the most recently used ones stay warm
      const byAge = idle.sort((a, b) => a.lastUsedAt - b.lastUsedAt);
      // the ones past their lifetime go anyway: they do not count toward minIdle
      for (const rec of byAge) if (t >= rec.expiresAt) keep--;
      for (const rec of byAge) {
        if (t >= rec.expiresAt) expired.push([rec, 'recycled']);
        else if (idleLimit > 0 && keep > 0 && idleT - rec.lastUsedAt >= idleLimit) {
          expired.push([rec, 'idle']);
          keep--;
        }
      }
      if (expired.length > 0) h.retire(expired);
    }
    if (this.timesIdle && this.#idleTimer === undefined) this.#armIdle();
    const leakMs = o.leakTimeoutMs;
    if (leakMs > 0 && h.watchingLeaks()) {
      for (const rec of h.records()) {
        if (rec.state === USED && !rec.leakReported && t - rec.checkedOutAt >= leakMs) {
          rec.leakReported = true;
          h.leak(rec, t - rec.checkedOutAt);
        }
      }
    }
    h.pump();
  }
}
