/**
 * The connect backoff: how long the pool waits before it opens a connection again
 * after connects failed.
 *
 * Owns: the count of connect rounds that failed in a row (reset by a success); the
 * current round, so that connects of one round that fail later do not back off again;
 * the delay (`connectBackoff`: 100 ms doubling to 2 s by default, jittered by 0.75-1.25;
 * with `connectBackoff: false` there is none and `blocked()` is always false); the time before which no
 * connect starts; and the one backoff timer, which holds the process alive only while
 * somebody waits (`setWaiting`, fed by the wait queue's `onWaiting`). It knows nothing
 * of connections or states: the pool asks `blocked()` in its pump, reports `failed` and
 * `succeeded`, and is called back through `onEnd` (it runs the pump) when a backoff ends.
 */
import { preciseNow } from './clock.js';
import type { ResolvedPoolOptions } from './types.js';

export class ConnectBackoff {
  readonly #onEnd: () => void;
  /** The first and the longest wait; undefined when the backoff is off. */
  readonly #initialMs: number | undefined;
  readonly #maxMs: number;
  /** Rounds of connects that failed in a row (reset by a success). */
  #failedRounds = 0;
  /** The current connect round; a failure of a connect started in an older round does not back off again. */
  #round = 0;
  /** No connect before this time (precise clock); 0 when not backing off. */
  #until = 0;
  #timer: NodeJS.Timeout | undefined = undefined;

  /**
   * `onEnd` runs when a backoff ends: the pump lets the next connect (the probe) through at
   * once. `settings` is the resolved `connectBackoff` option (`false`: never back off).
   */
  constructor(onEnd: () => void, settings: ResolvedPoolOptions['connectBackoff']) {
    this.#onEnd = onEnd;
    this.#initialMs = settings === false ? undefined : settings.initialMs;
    this.#maxMs = settings === false ? 0 : settings.maxMs;
  }

  /** The current connect round: a connect remembers it, and hands it to `failed`. */
  get round(): number {
    return this.#round;
  }

  /** True while no connect may start; the first call after the backoff ended clears it. */
  blocked(): boolean {
    if (this.#until === 0) return false;
    if (preciseNow() < this.#until) return true;
    this.#until = 0;
    return false;
  }

  /** A connect succeeded: the next failure backs off from `initialMs` again. */
  succeeded(): void {
    this.#failedRounds = 0;
  }

  /**
   * A connect started in round `round` failed: back off once per round, not once per
   * failed connect; `waiting` says whether a caller waits (then the timer holds the process).
   */
  failed(round: number, waiting: boolean): void {
    const initialMs = this.#initialMs;
    if (initialMs === undefined || round !== this.#round) return;
    this.#round++;
    this.#failedRounds++;
    const delay =
      Math.min(this.#maxMs, initialMs * 2 ** Math.min(this.#failedRounds - 1, 30)) *
      (0.75 + Math.random() / 2);
    this.#until = preciseNow() + delay;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#until = 0;
      this.#onEnd();
    }, delay);
    if (!waiting) this.#timer.unref();
  }

  /** Somebody waits (`true`) or nobody does (`false`): a caller waiting through the backoff keeps the process alive. */
  setWaiting(waiting: boolean): void {
    if (waiting) this.#timer?.ref();
    else this.#timer?.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
