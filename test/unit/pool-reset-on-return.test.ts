import { describe, expect, it } from 'vitest';
import { Pool } from '../../src/pool/pool.js';
import { FakeDriver } from '../support/fake-driver.js';
import { makePool, settle, tick, track, useFakeClock } from '../support/pool-harness.js';

useFakeClock();

describe('resetOnReturn', () => {
  it('runs a synchronous reset at check-in and keeps the connection', async () => {
    const { pool, log } = makePool({});
    const c = await pool.acquire();
    pool.release(c);
    expect(c.resets).toBe(1);
    expect(pool.stats()).toMatchObject({ idle: 1, used: 0 });
    expect(await pool.acquire()).toBe(c);
    expect(log.names()).toEqual(['connect', 'checkout', 'checkin', 'checkout']);
    pool.release(c);
  });

  it('runs an asynchronous reset before the connection is handed out again', async () => {
    const { pool, driver } = makePool({ size: 1, maxOverflow: 0 }, { resetAsync: true });
    const c = await pool.acquire();
    let resolveReset!: () => void;
    driver.reset = (conn) => {
      conn.resets++;
      return new Promise<void>((resolve) => {
        resolveReset = resolve;
      });
    };
    const waiter = settle(pool.acquire());
    pool.release(c);
    await tick();
    // while resetting the connection is neither idle nor available, and counts as used
    expect(c.resets).toBe(1);
    expect(waiter.state).toBe('pending');
    expect(pool.stats()).toMatchObject({ idle: 0, used: 1, pending: 1 });
    resolveReset();
    await tick();
    expect(waiter.state).toBe('fulfilled');
    expect(waiter.value).toBe(c);
    pool.release(c);
  });

  it('a reset that throws synchronously invalidates the connection', async () => {
    const resetError = new Error('cannot roll back');
    const { pool, log } = makePool({}, { resetError });
    const c = await pool.acquire();
    pool.release(c);
    expect(c.closed).toBe(true);
    expect(log.of('invalidate')).toEqual([{ connectionId: c.id, error: resetError }]);
    expect(log.closeReasons()).toEqual(['invalidated']);
    expect(pool.stats()).toMatchObject({ idle: 0, used: 0, size: 0 });
    const next = await pool.acquire();
    expect(next).not.toBe(c);
    pool.invalidate(next);
  });

  it('a reset that rejects invalidates the connection; a waiter gets a new one', async () => {
    const resetError = new Error('reset failed');
    const { pool, driver, log } = makePool({ size: 1, maxOverflow: 0 }, { resetError, resetAsync: true });
    const c = await pool.acquire();
    const waiter = settle(pool.acquire());
    pool.release(c);
    await tick();
    expect(c.closed).toBe(true);
    expect(log.of('invalidate')[0].error).toBe(resetError);
    expect(waiter.state).toBe('fulfilled');
    expect(waiter.value).not.toBe(c);
    expect(driver.maxOpen).toBe(1);
    driver.controls.resetError = undefined;
    pool.release(waiter.value!);
  });

  it('resetOnReturn false skips the reset', async () => {
    const { pool } = makePool({ resetOnReturn: false }, { resetError: new Error('would fail') });
    const c = await pool.acquire();
    pool.release(c);
    expect(c.resets).toBe(0);
    expect(await pool.acquire()).toBe(c);
    pool.release(c);
  });

  it('a driver without reset checks in directly', async () => {
    const driver = new FakeDriver();
    (driver as { reset?: unknown }).reset = undefined;
    const pool = track(new Pool(driver, { telemetry: false }));
    const c = await pool.acquire();
    pool.release(c);
    expect(pool.stats()).toMatchObject({ idle: 1, used: 0 });
    expect(await pool.acquire()).toBe(c);
    pool.release(c);
  });

  it('release after an async reset is in progress is a misuse, and the reset still completes', async () => {
    const { pool } = makePool({}, { resetAsync: true });
    const c = await pool.acquire();
    pool.release(c);
    expect(() => pool.release(c)).toThrow(/not checked out/);
    await tick();
    expect(pool.stats()).toMatchObject({ idle: 1, used: 0 });
  });
});
