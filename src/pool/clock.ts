/**
 * The pool's two clocks, both in milliseconds on the `performance.now()` time line,
 * so values from either may be compared:
 *
 * - `now()`, the TICK clock: reads `performance.now()` once per macrotask and
 *   serves the cached value until the event loop moves on, like libuv's cached
 *   loop time (`uv_now`) that Node's own timers use. A burst of acquire/release in
 *   one tick costs one clock read, not one per call. Used for everything a caller's
 *   checkout touches: wait and hold times, last use, the pre-ping window, deadlines.
 * - `preciseNow()`, the PRECISE clock: a fresh `performance.now()`. Used where a
 *   reading must not be stale by a tick: inside timer callbacks (expiry, sweeping,
 *   backoff) and for connect durations and connection birth/expiry times.
 */
let cached = 0;
let valid = false;

function invalidate(): void {
  valid = false;
}

/** The tick clock (see above). */
export function now(): number {
  // `=== true`: one compare, where `if (valid)` is a full ToBoolean (pool.ts, its boolean fields)
  if (valid === true) return cached;
  cached = performance.now();
  valid = true;
  setImmediate(invalidate);
  return cached;
}

/** The precise clock (see above). */
export function preciseNow(): number {
  return performance.now();
}

/** Drop the cached reading (tests switch between real and fake timers). */
export function resetClock(): void {
  valid = false;
}
