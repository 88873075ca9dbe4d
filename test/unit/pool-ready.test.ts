import { describe, expect, it } from 'vitest';
import { ConnectError, PoolClosedError } from '../../src/pool/errors.js';
import { makePool, rejection, settle, tick, useFakeClock } from '../support/pool-harness.js';

useFakeClock();

describe('ready() and minIdle', () => {
  it('resolves once minIdle connections are open', async () => {
    const { pool, driver } = makePool({ size: 5, minIdle: 3 }, { connectDelayMs: 100 });
    const ready = settle(pool.ready());
    await tick(199); // maxConnecting 2: two at 100 ms, the third at 200 ms
    expect(ready.state).toBe('pending');
    expect(pool.stats().idle).toBe(2);
    await tick(1);
    expect(ready.state).toBe('fulfilled');
    expect(pool.stats()).toMatchObject({ idle: 3, size: 3, connecting: 0 });
    expect(driver.connects).toBe(3);
    // and no more than minIdle are opened ahead of demand
    await tick(10_000);
    expect(driver.connectAttempts).toBe(3);
  });

  it('minIdle is opened even when nobody calls ready()', async () => {
    const { pool } = makePool({ size: 3, minIdle: 2 });
    await tick();
    expect(pool.stats().idle).toBe(2);
  });

  it('minIdle is kept warm: a connection taken out is replaced at once', async () => {
    const { pool, driver } = makePool({ size: 5, minIdle: 2 });
    await pool.ready();
    const a = await pool.acquire(); // the fast path
    await tick();
    expect(pool.stats()).toMatchObject({ idle: 2, used: 1 });
    expect(driver.connects).toBe(3);
    const b = await pool.acquire();
    await tick();
    expect(pool.stats()).toMatchObject({ idle: 2, used: 2 });
    pool.release(a);
    pool.release(b);
    // a closed idle connection is replaced too
    const c = await pool.acquire();
    pool.invalidate(c);
    await tick();
    expect(pool.stats().idle).toBeGreaterThanOrEqual(2);
  });

  it('resolves at once with minIdle 0', async () => {
    const { pool, driver } = makePool({});
    const ready = settle(pool.ready());
    await Promise.resolve();
    expect(ready.state).toBe('fulfilled');
    expect(driver.connectAttempts).toBe(0);
  });

  it('rejects with the connect error when minIdle cannot be opened', async () => {
    const refused = new Error('connect ECONNREFUSED 127.0.0.1:5432');
    const { pool } = makePool({ minIdle: 2 }, { connectError: refused });
    const error = (await rejection(pool.ready())) as ConnectError;
    expect(error).toBeInstanceOf(ConnectError);
    expect(error.code).toBe('CONNECT_FAILED');
    expect(error.cause).toBe(refused);
    expect(error.message).toContain('fake at fake-host:1/db');
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('a later ready() succeeds once the server is back', async () => {
    const { pool, driver } = makePool({ minIdle: 1 }, { connectError: new Error('down') });
    await rejection(pool.ready());
    driver.controls.connectError = undefined;
    const again = settle(pool.ready());
    await tick(5000);
    expect(again.state).toBe('fulfilled');
    expect(pool.stats().idle).toBe(1);
  });

  it('rejects with PoolClosedError when the pool closes first', async () => {
    const { pool } = makePool({ minIdle: 1 }, { connectDelayMs: 1000 });
    const ready = settle(pool.ready());
    await tick(10);
    void pool.close();
    await tick();
    expect(ready.error).toBeInstanceOf(PoolClosedError);
  });
});
