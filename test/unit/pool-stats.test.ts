import { describe, expect, it } from 'vitest';
import { makePool, settle, tick, useFakeClock } from '../support/pool-harness.js';

useFakeClock();

describe('stats()', () => {
  it('a new pool', () => {
    const { pool } = makePool({ size: 4, maxOverflow: 6 });
    expect(pool.stats()).toEqual({
      size: 0,
      idle: 0,
      used: 0,
      pending: 0,
      connecting: 0,
      closing: 0,
      overflow: 0,
      max: 10,
      generation: 0,
    });
  });

  it('connecting, pending, used, idle, overflow and generation through a pool life', async () => {
    const { pool } = makePool({ size: 2, maxOverflow: 1, maxConnecting: 2 }, { connectDelayMs: 100 });
    const calls = Array.from({ length: 4 }, () => settle(pool.acquire()));
    expect(pool.stats()).toEqual({
      size: 2, // open + being opened
      idle: 0,
      used: 0,
      pending: 4,
      connecting: 2,
      closing: 0,
      overflow: 0,
      max: 3,
      generation: 0,
    });
    await tick(100);
    expect(pool.stats()).toMatchObject({ size: 3, used: 2, pending: 2, connecting: 1, overflow: 0 });
    await tick(100);
    expect(pool.stats()).toMatchObject({ size: 3, used: 3, pending: 1, connecting: 0, overflow: 1 });

    pool.release(calls[0].value!);
    await tick();
    expect(calls[3].state).toBe('fulfilled');
    expect(pool.stats()).toMatchObject({ used: 3, pending: 0, idle: 0 });

    pool.release(calls[1].value!); // overflow: closed
    expect(pool.stats()).toMatchObject({ size: 2, used: 2, idle: 0, overflow: 0 });
    pool.release(calls[2].value!);
    pool.release(calls[3].value!);
    expect(pool.stats()).toMatchObject({ size: 2, used: 0, idle: 2, pending: 0 });

    pool.clear();
    expect(pool.stats()).toEqual({
      size: 0,
      idle: 0,
      used: 0,
      pending: 0,
      connecting: 0,
      closing: 3, // the overflow one and the two idle ones: their driver closes have not settled yet
      overflow: 0,
      max: 3,
      generation: 1,
    });
    await tick();
    expect(pool.stats()).toMatchObject({ size: 0, closing: 0 });
  });

  it('a connection being pinged or reset counts as used, not idle', async () => {
    const { pool, driver } = makePool({ size: 1 }, { resetAsync: true });
    const c = await pool.acquire();
    pool.release(c);
    expect(pool.stats()).toMatchObject({ used: 1, idle: 0 }); // resetting
    await tick();
    expect(pool.stats()).toMatchObject({ used: 0, idle: 1 });
    await tick(1000);
    driver.controls.pingResult = 'hang';
    settle(pool.acquire());
    await tick();
    expect(pool.stats()).toMatchObject({ used: 1, idle: 0, pending: 1, size: 1 });
  });

  it('stats() is a fresh snapshot each call', async () => {
    const { pool } = makePool({});
    const before = pool.stats();
    const c = await pool.acquire();
    expect(before.used).toBe(0);
    expect(pool.stats()).not.toBe(before);
    expect(pool.stats().used).toBe(1);
    pool.release(c);
  });

  it('after close everything is zero', async () => {
    const { pool } = makePool({ size: 2 });
    const c = await pool.acquire();
    pool.release(await pool.acquire());
    const closing = pool.close({ timeoutMs: 10 });
    expect(pool.stats()).toMatchObject({ idle: 0, used: 1 });
    await tick(10);
    await closing;
    expect(pool.stats()).toMatchObject({ size: 0, idle: 0, used: 0, pending: 0, connecting: 0 });
    pool.release(c);
  });
});
