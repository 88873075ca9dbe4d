/**
 * `refillMinIdle: false`: `minIdle` only keeps that many idle connections from the idle
 * timeout (pg-pool's and tarn's `min`); the pool opens none on its own, at start or after
 * one closed, and `ready()` opens the missing ones once. The default (refill) is tested in
 * pool-ready.test.ts and pool-idle-timeout.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { ConnectError } from '../../src/pool/errors.js';
import { makePool, rejection, settle, tick, useFakeClock } from '../support/pool-harness.js';

useFakeClock();

const noRefill = { refillMinIdle: false, maxLifetimeMs: 0 } as const;

describe('refillMinIdle: false', () => {
  it('opens nothing at start', async () => {
    const { pool, driver } = makePool({ ...noRefill, size: 3, minIdle: 2 });
    await tick(60_000);
    expect(driver.connectAttempts).toBe(0);
    expect(pool.stats()).toMatchObject({ size: 0, idle: 0 });
  });

  it('keeps minIdle idle connections from the idle timeout, and closes the others', async () => {
    const { pool, driver, log } = makePool({ ...noRefill, size: 3, minIdle: 1, idleTimeoutMs: 1000 });
    const conns = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    for (const c of conns) pool.release(c);
    await tick(1250);
    expect(log.closeReasons()).toEqual(['idle', 'idle']);
    expect(pool.stats()).toMatchObject({ idle: 1, size: 1 });
    await tick(3600_000);
    expect(pool.stats()).toMatchObject({ idle: 1, size: 1 });
    expect(driver.connectAttempts).toBe(3);
  });

  it('does not replace a minIdle connection closed for maxUses', async () => {
    // pg-pool's "pool size of 1 does remove clients when at or below min if maxUses is reached"
    const { pool, driver, log } = makePool({
      ...noRefill,
      size: 1,
      minIdle: 1,
      idleTimeoutMs: 10,
      maxUses: 1,
    });
    pool.release(await pool.acquire());
    await tick(20);
    expect(log.closeReasons()).toEqual(['maxUses']);
    expect(pool.stats()).toMatchObject({ idle: 0, size: 0, connecting: 0 });
    expect(driver.connectAttempts).toBe(1);
  });

  it('does not replace a minIdle connection recycled past its lifetime', async () => {
    // pg-pool's "... if maxLifetimeSeconds is reached"
    const { pool, driver, log } = makePool({
      refillMinIdle: false,
      size: 1,
      minIdle: 1,
      idleTimeoutMs: 10,
      maxLifetimeMs: 1000,
    });
    pool.release(await pool.acquire());
    await tick(1020);
    expect(log.closeReasons()).toEqual(['recycled']);
    expect(pool.stats()).toMatchObject({ idle: 0, size: 0, connecting: 0 });
    await tick(60_000);
    expect(driver.connectAttempts).toBe(1);
  });

  it('does not refill when the fast path takes the last idle connection', async () => {
    const { pool, driver } = makePool({ ...noRefill, size: 3, minIdle: 2, prePing: false });
    await pool.ready();
    expect(driver.connectAttempts).toBe(2);
    const a = await pool.acquire();
    const b = await pool.acquire();
    await tick(100);
    expect(driver.connectAttempts).toBe(2);
    expect(pool.stats()).toMatchObject({ idle: 0, used: 2 });
    pool.release(a);
    pool.release(b);
  });

  it('ready() opens the missing minIdle connections once and resolves when they are open', async () => {
    const { pool, driver } = makePool({ ...noRefill, size: 5, minIdle: 3 }, { connectDelayMs: 100 });
    const ready = settle(pool.ready());
    await tick(199); // maxConnecting 2: two at 100 ms, the third at 200 ms
    expect(ready.state).toBe('pending');
    await tick(1);
    expect(ready.state).toBe('fulfilled');
    expect(pool.stats()).toMatchObject({ idle: 3, size: 3, connecting: 0 });
    // once open, they are not replaced: ready() was a one-off warm-up
    const c = await pool.acquire();
    pool.invalidate(c);
    await tick(10_000);
    expect(driver.connectAttempts).toBe(3);
    expect(pool.stats()).toMatchObject({ idle: 2, size: 2 });
    // a second ready() warms up again
    const again = settle(pool.ready());
    await tick(100);
    expect(again.state).toBe('fulfilled');
    expect(driver.connectAttempts).toBe(4);
  });

  it('ready() counts connections in use as open, as with the refill', async () => {
    const { pool, driver } = makePool({ ...noRefill, size: 3, minIdle: 2 });
    const a = await pool.acquire();
    const b = await pool.acquire();
    await pool.ready();
    expect(driver.connectAttempts).toBe(2);
    pool.release(a);
    pool.release(b);
  });

  it('ready() rejects with the connect error and the pool does not retry on its own', async () => {
    const { pool, driver } = makePool(
      { ...noRefill, size: 2, minIdle: 2, maxConnecting: 1 },
      { connectError: new Error('connect ECONNREFUSED 127.0.0.1:1') },
    );
    const error = (await rejection(pool.ready())) as ConnectError;
    expect(error).toBeInstanceOf(ConnectError);
    await tick(60_000);
    expect(driver.connectAttempts).toBe(1);
    // the server is back: a later ready() opens them
    driver.controls.connectError = undefined;
    await tick(2000); // past the backoff
    await pool.ready();
    expect(pool.stats().idle).toBe(2);
  });
});
