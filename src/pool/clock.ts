/**
 * A coarse clock: `now()` reads `performance.now()` once per macrotask and
 * serves the cached value until the event loop moves on, like libuv's own
 * cached loop time that Node's timers use. A burst of acquire/release in one
 * tick costs one clock read, not one per call (STYLE.md note 6).
 */
let cached = 0;
let valid = false;

function invalidate(): void {
  valid = false;
}

export function now(): number {
  if (valid) return cached;
  cached = performance.now();
  valid = true;
  setImmediate(invalidate);
  return cached;
}

/** Drop the cached reading (tests switch between real and fake timers). */
export function resetClock(): void {
  valid = false;
}
