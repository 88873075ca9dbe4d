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

export class Housekeeper<C> {
  readonly #h: HousekeepingHandle<C>;
  #timer: NodeJS.Timeout | undefined = undefined;

  /** Starts the sweeper when idle timeout, lifetime or leak detection is on. */
  constructor(handle: HousekeepingHandle<C>) {
    this.#h = handle;
    const o = handle.options;
    const periods = [o.idleTimeoutMs, o.maxLifetimeMs, o.leakTimeoutMs].filter((p) => p > 0);
    if (periods.length === 0) return;
    const period = Math.min(30_000, Math.max(5, Math.floor(Math.min(...periods) / 4)));
    this.#timer = setInterval(() => this.sweep(), period);
    this.#timer.unref?.();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Close idle connections past their idle timeout or lifetime, report leaks, refill `minIdle`. */
  sweep(): void {
    const h = this.#h;
    if (h.closed()) return;
    const t = preciseNow();
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
        else if (idleLimit > 0 && keep > 0 && t - rec.lastUsedAt >= idleLimit) {
          expired.push([rec, 'idle']);
          keep--;
        }
      }
      if (expired.length > 0) h.retire(expired);
    }
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
