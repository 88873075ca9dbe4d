import { describe, expect, it, vi } from 'vitest';
import { ConnectError, PoolError, PoolTimeoutError } from '../../src/pool/errors.js';
import { makePool, pendingTimers, rejection, settle, tick, useFakeClock } from '../support/pool-harness.js';

useFakeClock();

// no sweeper: the only timers left are the pool's waiter timer and the test's own
const QUIET = { maxLifetimeMs: 0, idleTimeoutMs: 0 };

describe('acquireTimeoutMs', () => {
  it('rejects a waiter with PoolTimeoutError (POOL_TIMEOUT) exactly at the timeout', async () => {
    const { pool, log } = makePool({ size: 1, maxOverflow: 0, acquireTimeoutMs: 1000 });
    const held = await pool.acquire();
    const waiter = settle(pool.acquire());
    await tick(999);
    expect(waiter.state).toBe('pending');
    expect(pool.stats().pending).toBe(1);
    await tick(1);
    expect(waiter.state).toBe('rejected');
    const error = waiter.error as PoolTimeoutError;
    expect(error).toBeInstanceOf(PoolTimeoutError);
    expect(error).toBeInstanceOf(PoolError);
    expect(error.code).toBe('POOL_TIMEOUT');
    expect(error.name).toBe('PoolTimeoutError');
    expect(error.cause).toBeUndefined();
    expect(error.message).toContain('timed out after 1000 ms');
    expect(error.message).toContain("pool 'fake-host:1/db'");
    expect(log.of('checkoutFailed')).toEqual([{ reason: 'timeout', error, waitMs: 1000 }]);
    expect(pool.stats()).toMatchObject({ pending: 0, used: 1 });

    // the connection released after the timeout is not handed to the waiter that gave up
    pool.release(held);
    expect(pool.stats()).toMatchObject({ idle: 1, used: 0 });
  });

  it('carries the last connect error as its cause', async () => {
    const boom = new Error('ECONNREFUSED 127.0.0.1:1');
    const { pool, driver, log } = makePool(
      { size: 1, acquireTimeoutMs: 1000, connectTimeoutMs: 5000 },
      { connectError: boom },
    );
    // the first caller learns the connect error itself
    const first = (await rejection(pool.acquire())) as ConnectError;
    expect(first).toBeInstanceOf(ConnectError);
    expect(first.cause).toBe(boom);
    expect(log.of('checkoutFailed')[0].reason).toBe('connectError');

    // the next connect hangs: the next caller times out, and its error says why
    driver.controls.connectError = undefined;
    driver.controls.connectHang = true;
    const second = settle(pool.acquire());
    await tick(1000);
    expect(second.state).toBe('rejected');
    const error = second.error as PoolTimeoutError;
    expect(error.code).toBe('POOL_TIMEOUT');
    expect(error.cause).toBe(first);
    expect(error.message).toContain('last connect error');
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('a successful connect forgets the last connect error', async () => {
    const { pool, driver } = makePool(
      { size: 1, maxOverflow: 0, acquireTimeoutMs: 1000 },
      { connectError: new Error('refused') },
    );
    await rejection(pool.acquire());
    driver.controls.connectError = undefined;
    await tick(2000); // past the connect backoff
    const held = await pool.acquire();
    const waiter = settle(pool.acquire());
    await tick(1000);
    expect((waiter.error as PoolTimeoutError).cause).toBeUndefined();
    pool.release(held);
  });

  it('a per-call timeoutMs shorter than the default wins', async () => {
    const { pool } = makePool({ size: 1, maxOverflow: 0, acquireTimeoutMs: 10_000, ...QUIET });
    const held = await pool.acquire();
    const byDefault = settle(pool.acquire());
    const short = settle(pool.acquire({ timeoutMs: 100 }));
    await tick(100);
    expect(short.state).toBe('rejected');
    expect((short.error as Error).message).toContain('timed out after 100 ms');
    expect(byDefault.state).toBe('pending');
    await tick(9_900);
    expect(byDefault.state).toBe('rejected');
    pool.release(held);
  });

  it('a per-call timeoutMs longer than the default wins', async () => {
    const { pool, log } = makePool({ size: 1, maxOverflow: 0, acquireTimeoutMs: 100, ...QUIET });
    const held = await pool.acquire();
    const long = settle(pool.acquire({ timeoutMs: 5000 }));
    const byDefault = settle(pool.acquire());
    await tick(100);
    expect(byDefault.state).toBe('rejected');
    expect(long.state).toBe('pending');
    await tick(4899);
    expect(long.state).toBe('pending');
    await tick(1);
    expect(long.state).toBe('rejected');
    expect(log.of('checkoutFailed').map((e) => e.waitMs)).toEqual([100, 5000]);
    pool.release(held);
  });

  it('a long waiter still gets the connection when it is released in time', async () => {
    const { pool } = makePool({ size: 1, maxOverflow: 0, acquireTimeoutMs: 100 });
    const held = await pool.acquire();
    const long = settle(pool.acquire({ timeoutMs: 5000 }));
    await tick(3000);
    pool.release(held);
    await tick();
    expect(long.state).toBe('fulfilled');
    expect(long.value).toBe(held);
  });

  it('Infinity never times out and arms no timer', async () => {
    const { pool } = makePool({
      size: 1,
      maxOverflow: 0,
      acquireTimeoutMs: Number.POSITIVE_INFINITY,
      ...QUIET,
    });
    const held = await pool.acquire();
    expect(await pendingTimers()).toBe(0);
    const waiter = settle(pool.acquire());
    expect(await pendingTimers()).toBe(0);
    await tick(24 * 3600_000);
    expect(waiter.state).toBe('pending');
    pool.release(held);
    await tick();
    expect(waiter.state).toBe('fulfilled');
  });

  it('a timeout beyond 2^31 - 1 ms (the Node timer limit) does not fire early nor spin', async () => {
    const huge = 3_000_000_000;
    const { pool } = makePool({
      size: 1,
      maxOverflow: 0,
      acquireTimeoutMs: huge,
      connectTimeoutMs: huge,
      ...QUIET,
    });
    const held = await pool.acquire();
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    const waiter = settle(pool.acquire());
    await tick(60_000);
    expect(waiter.state).toBe('pending');
    expect(setTimeoutSpy.mock.calls.length).toBeLessThanOrEqual(1);
    const closing = settle(pool.close({ timeoutMs: huge }));
    await tick(60_000);
    expect(closing.state).toBe('pending');
    pool.release(held);
    await tick();
    expect(closing.state).toBe('fulfilled');
  });

  it('uses one timer for all waiters, not one per waiter', async () => {
    const { pool } = makePool({ size: 1, maxOverflow: 0, acquireTimeoutMs: 1000, ...QUIET });
    const held = await pool.acquire();
    await tick(5000); // let the timer armed by that first (served) acquire run out
    expect(await pendingTimers()).toBe(0);
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    const waiters = [];
    for (let i = 0; i < 1000; i++) {
      waiters.push(settle(pool.acquire()));
      if (i % 100 === 99) await tick(10); // arrivals spread over time
    }
    expect(setTimeoutSpy).toHaveBeenCalledTimes(1);
    expect(await pendingTimers()).toBe(1);
    await tick(900); // the first hundred arrived 1000 ms ago
    expect(waiters.filter((w) => w.state === 'rejected').length).toBe(100);
    // as the head expires the timer is re-armed for the next deadline: still one at a time
    expect(await pendingTimers()).toBe(1);
    await tick(100);
    expect(waiters.every((w) => w.state === 'rejected')).toBe(true);
    expect(await pendingTimers()).toBe(0);
    expect(pool.stats().pending).toBe(0);
    pool.release(held);
  });

  it('per-call timeouts in any order share the one timer, and expire in deadline order', async () => {
    const { pool, log } = makePool({ size: 1, maxOverflow: 0, acquireTimeoutMs: 1000, ...QUIET });
    const held = await pool.acquire();
    const timeouts = [500, 300, 900, 100, 700, 1000, 200];
    const waiters = timeouts.map((timeoutMs) => settle(pool.acquire({ timeoutMs })));
    expect(await pendingTimers()).toBe(1);
    for (let t = 0; t < 1000; t += 50) {
      await tick(50);
      expect(await pendingTimers()).toBeLessThanOrEqual(1);
    }
    expect(waiters.every((w) => w.state === 'rejected')).toBe(true);
    expect(log.of('checkoutFailed').map((e) => e.waitMs)).toEqual([...timeouts].sort((a, b) => a - b));
    pool.release(held);
  });

  it('an acquire served at once arms no timer', async () => {
    const { pool } = makePool({ size: 1, ...QUIET });
    pool.release(await pool.acquire());
    const spy = vi.spyOn(globalThis, 'setTimeout');
    for (let i = 0; i < 100; i++) pool.release(await pool.acquire());
    expect(spy).not.toHaveBeenCalled();
  });
});
