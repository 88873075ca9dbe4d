/**
 * The CLOSING state (issue 9's stricter bound): a connection handed to the driver's close
 * counts against `size + maxOverflow` until that close settles, because the server still
 * sees it; a close that hangs is given up on after `connectTimeoutMs`, so the pool cannot
 * wedge. The fake driver keeps a closing connection in `driver.open` (the server's view)
 * until its close completes.
 */
import { describe, expect, it } from 'vitest';
import { makePool, settle, tick, useFakeClock } from '../support/pool-harness.js';

useFakeClock();

/** close() waits for the driver's closes: step the fake clock through them. */
async function closeUnder(pool: { close(): Promise<void> }, closeMs: number): Promise<void> {
  const closed = settle(pool.close());
  await tick(closeMs);
  await tick();
  expect(closed.state).toBe('fulfilled');
}

describe('CLOSING', () => {
  it('a slow close holds its slot: no connection opens beyond the limit meanwhile', async () => {
    const { pool, driver, log } = makePool({ size: 1, maxOverflow: 0 }, { closeDelayMs: 100 });
    const a = await pool.acquire();
    pool.invalidate(a);
    expect(pool.stats()).toMatchObject({ size: 0, closing: 1, connecting: 0, used: 0 });
    const b = settle(pool.acquire());
    await tick(50);
    // the server still sees the first connection: the second waits for its close
    expect(driver.connectAttempts).toBe(1);
    expect(driver.open.size).toBe(1);
    expect(pool.stats()).toMatchObject({ closing: 1, connecting: 0, pending: 1 });
    expect(b.state).toBe('pending');
    await tick(50);
    await tick();
    expect(b.state).toBe('fulfilled');
    expect(driver.connectAttempts).toBe(2);
    expect(driver.maxOpen).toBe(1);
    expect(pool.stats()).toMatchObject({ size: 1, closing: 0, used: 1 });
    expect(log.of('close')).toEqual([{ connectionId: 1, reason: 'invalidated' }]);
    pool.release(b.value!);
    await closeUnder(pool, 100);
  });

  it('a close that hangs is given up on after connectTimeoutMs, and the slot is free again', async () => {
    const { pool, driver } = makePool(
      { size: 1, maxOverflow: 0, connectTimeoutMs: 1000, acquireTimeoutMs: 5000 },
      { closeHang: true },
    );
    const a = await pool.acquire();
    pool.invalidate(a);
    const b = settle(pool.acquire());
    await tick(999);
    expect(pool.stats()).toMatchObject({ closing: 1, connecting: 0, pending: 1 });
    expect(driver.connectAttempts).toBe(1);
    await tick(1);
    await tick();
    expect(b.state).toBe('fulfilled');
    expect(pool.stats()).toMatchObject({ size: 1, closing: 0, used: 1 });
    pool.release(b.value!);
    // close() does not wait for ever on the hung close either
    driver.controls.closeHang = false;
    const closed = settle(pool.close());
    await tick();
    expect(closed.state).toBe('fulfilled');
  });

  it('clear() with slow closes: the new generation opens only as the old connections go', async () => {
    const { pool, driver } = makePool({ size: 2, maxOverflow: 0 }, { closeDelayMs: 30 });
    const [a, b] = [await pool.acquire(), await pool.acquire()];
    pool.release(a);
    pool.release(b);
    pool.clear();
    expect(pool.stats()).toMatchObject({ size: 0, idle: 0, closing: 2 });
    const c = settle(pool.acquire());
    await tick(10);
    expect(c.state).toBe('pending');
    expect(driver.connectAttempts).toBe(2);
    await tick(20);
    await tick();
    expect(c.state).toBe('fulfilled');
    expect(driver.maxOpen).toBe(2);
    expect(pool.stats()).toMatchObject({ closing: 0, used: 1 });
    pool.release(c.value!);
    await closeUnder(pool, 30);
  });
});
