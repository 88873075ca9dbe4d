import { describe, expect, it } from 'vitest';
import type { ConnectContext } from '../../src/pool/driver.js';
import { PoolClosedError, type PoolError } from '../../src/pool/errors.js';
import { FakeConnection } from '../support/fake-driver.js';
import { makePool, rejection, settle, tick, useFakeClock } from '../support/pool-harness.js';

useFakeClock();

describe('close()', () => {
  it('closes idle connections at once', async () => {
    const { pool, log } = makePool({ size: 2 });
    const [a, b] = await Promise.all([pool.acquire(), pool.acquire()]);
    pool.release(a);
    pool.release(b);
    const closing = pool.close();
    expect(a.closed && b.closed).toBe(true);
    expect(log.closeReasons()).toEqual(['poolClosed', 'poolClosed']);
    await closing;
    expect(pool.stats()).toMatchObject({ size: 0, idle: 0 });
  });

  it('rejects waiting callers with PoolClosedError and awaits the checked-out connections', async () => {
    const { pool, log } = makePool({ size: 2, maxOverflow: 0 });
    const [a, b] = await Promise.all([pool.acquire(), pool.acquire()]);
    const w1 = settle(pool.acquire());
    const w2 = settle(pool.acquire());
    await tick(100);
    const closing = settle(pool.close());
    await tick();
    for (const w of [w1, w2]) {
      expect(w.state).toBe('rejected');
      expect(w.error).toBeInstanceOf(PoolClosedError);
      expect((w.error as PoolError).code).toBe('POOL_CLOSED');
    }
    expect(log.of('checkoutFailed').map((e) => [e.reason, e.waitMs])).toEqual([
      ['closed', 100],
      ['closed', 100],
    ]);
    expect(pool.closed).toBe(true);
    expect(closing.state).toBe('pending');
    expect(a.closed || b.closed).toBe(false);
    pool.release(a);
    await tick();
    expect(a.closed).toBe(true);
    expect(closing.state).toBe('pending');
    await tick(10_000);
    pool.release(b);
    await tick();
    expect(b.closed).toBe(true);
    expect(closing.state).toBe('fulfilled');
    expect(log.closeReasons()).toEqual(['poolClosed', 'poolClosed']);
    expect(pool.stats()).toMatchObject({ size: 0, idle: 0, used: 0, pending: 0, connecting: 0 });
  });

  it('after timeoutMs closes what is still checked out; a later release or invalidate is a no-op', async () => {
    const { pool, log } = makePool({});
    const held = await pool.acquire();
    const other = await pool.acquire();
    const closing = settle(pool.close({ timeoutMs: 1000 }));
    await tick(999);
    expect(closing.state).toBe('pending');
    expect(held.closed).toBe(false);
    await tick(1);
    expect(closing.state).toBe('fulfilled');
    expect(held.closed && other.closed).toBe(true);
    expect(log.closeReasons()).toEqual(['poolClosed', 'poolClosed']);
    expect(pool.stats()).toMatchObject({ size: 0, used: 0 });
    expect(() => pool.release(held)).not.toThrow();
    expect(() => pool.invalidate(other)).not.toThrow();
    expect(log.of('close')).toHaveLength(2);
    // only once: the record is gone after that no-op
    expect(() => pool.release(held)).toThrow(/not checked out/);
  });

  it('waits 30 s by default', async () => {
    const { pool } = makePool({});
    const held = await pool.acquire();
    const closing = settle(pool.close());
    await tick(29_999);
    expect(closing.state).toBe('pending');
    await tick(1);
    expect(closing.state).toBe('fulfilled');
    expect(held.closed).toBe(true);
  });

  it('timeoutMs 0 closes everything at once', async () => {
    const { pool } = makePool({});
    const held = await pool.acquire();
    const closing = settle(pool.close({ timeoutMs: 0 }));
    await tick();
    expect(closing.state).toBe('fulfilled');
    expect(held.closed).toBe(true);
  });

  it('is idempotent: a second call returns the same promise', async () => {
    const { pool, log } = makePool({});
    pool.release(await pool.acquire());
    const first = pool.close();
    const second = pool.close({ timeoutMs: 5 });
    expect(second).toBe(first);
    await first;
    await pool.close();
    expect(log.of('close')).toHaveLength(1);
  });

  it('pool[Symbol.asyncDispose]() closes the pool', async () => {
    const { pool, log } = makePool({});
    pool.release(await pool.acquire());
    await pool[Symbol.asyncDispose]();
    expect(pool.closed).toBe(true);
    expect(log.closeReasons()).toEqual(['poolClosed']);
  });

  it('acquire, use, transaction and ready after close reject with PoolClosedError', async () => {
    const { pool, driver, log } = makePool({ minIdle: 1 });
    await pool.close();
    expect(await rejection(pool.acquire())).toBeInstanceOf(PoolClosedError);
    expect(await rejection(pool.use(() => 1))).toBeInstanceOf(PoolClosedError);
    expect(await rejection(pool.transaction(async () => 1))).toBeInstanceOf(PoolClosedError);
    expect(await rejection(pool.ready())).toBeInstanceOf(PoolClosedError);
    expect(log.of('checkoutFailed').every((e) => e.reason === 'closed' && e.waitMs === 0)).toBe(true);
    expect(log.of('checkoutFailed')).toHaveLength(3);
    await tick(10_000);
    expect(driver.connectAttempts).toBe(0);
  });

  it('a connect in flight is aborted through its signal', async () => {
    const { pool, driver, log } = makePool({}, { connectDelayMs: 1000 });
    const waiter = settle(pool.acquire());
    await tick(10);
    expect(pool.stats().connecting).toBe(1);
    const closing = settle(pool.close());
    await tick();
    expect(driver.contexts[0].signal.aborted).toBe(true);
    expect(driver.contexts[0].signal.reason).toBeInstanceOf(PoolClosedError);
    expect(waiter.error).toBeInstanceOf(PoolClosedError);
    expect(closing.state).toBe('fulfilled');
    await tick(2000);
    expect(log.of('connect')).toHaveLength(0);
    expect(pool.stats()).toMatchObject({ connecting: 0, size: 0 });
  });

  it('a connect that ignores the abort and lands later is closed, and close() waits for it', async () => {
    const { pool, driver } = makePool({});
    let landed: FakeConnection | undefined;
    driver.connect = (_ctx: ConnectContext) =>
      new Promise((resolve) =>
        setTimeout(() => {
          landed = new FakeConnection(99);
          resolve(landed);
        }, 500),
      );
    driver.close = async (conn: FakeConnection) => {
      conn.closed = true;
    };
    const waiter = settle(pool.acquire());
    await tick(10);
    const closing = settle(pool.close({ timeoutMs: 5000 }));
    await tick();
    expect(waiter.state).toBe('rejected');
    expect(closing.state).toBe('pending');
    await tick(490);
    expect(landed!.closed).toBe(true);
    expect(closing.state).toBe('fulfilled');
  });

  it('waits for the driver to finish closing, and does not care if close rejects', async () => {
    const { pool, driver } = makePool({}, { closeError: new Error('socket already gone') });
    const c = await pool.acquire();
    pool.release(c);
    let finish!: () => void;
    const close = driver.close.bind(driver);
    driver.close = (conn: FakeConnection) =>
      new Promise<void>((resolve) => {
        finish = resolve;
      }).then(() => close(conn));
    const closing = settle(pool.close());
    await tick(100);
    expect(closing.state).toBe('pending');
    finish();
    await tick();
    expect(closing.state).toBe('fulfilled');
    expect(c.closed).toBe(true);
  });

  it('a ping in flight at close: the connection is closed when the timeout passes', async () => {
    const { pool, driver } = makePool({ connectTimeoutMs: 60_000 });
    const c = await pool.acquire();
    pool.release(c);
    await tick(1000);
    driver.controls.pingResult = 'hang';
    const waiter = settle(pool.acquire());
    await tick();
    expect(c.pings).toBe(1);
    const closing = settle(pool.close({ timeoutMs: 100 }));
    await tick();
    expect(waiter.error).toBeInstanceOf(PoolClosedError);
    await tick(100);
    expect(closing.state).toBe('fulfilled');
    expect(c.closed).toBe(true);
    expect(pool.stats()).toMatchObject({ size: 0, used: 0, idle: 0 });
  });

  it('a connection checked in during close is closed, not kept', async () => {
    const { pool } = makePool({}, { resetAsync: true });
    const c = await pool.acquire();
    const closing = pool.close();
    pool.release(c);
    await closing;
    expect(c.closed).toBe(true);
  });

  it('clears its timers: nothing is left pending after close', async () => {
    const { pool } = makePool({ size: 1, maxOverflow: 0, leakTimeoutMs: 1000 });
    const held = await pool.acquire();
    settle(pool.acquire());
    const closing = settle(pool.close({ timeoutMs: 0 }));
    await tick();
    expect(closing.state).toBe('fulfilled');
    const clock = (
      globalThis.setTimeout as unknown as { clock: { timers?: Record<string, { type: string }> } }
    ).clock;
    const left = Object.values(clock.timers ?? {}).filter((t) => t.type !== 'Immediate');
    expect(left).toHaveLength(0);
    expect(held.closed).toBe(true);
  });
});
