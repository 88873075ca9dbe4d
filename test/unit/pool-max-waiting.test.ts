import { describe, expect, it } from 'vitest';
import { PoolError, PoolQueueFullError } from '../../src/pool/errors.js';
import { makePool, rejection, settle, tick, useFakeClock } from '../support/pool-harness.js';

useFakeClock();

describe('maxWaiting', () => {
  it('one caller more than maxWaiting gets PoolQueueFullError at once', async () => {
    const { pool, log } = makePool({ size: 1, maxOverflow: 0, maxWaiting: 2 });
    const held = await pool.acquire();
    const a = settle(pool.acquire());
    const b = settle(pool.acquire());
    const error = (await rejection(pool.acquire())) as PoolQueueFullError;
    expect(error).toBeInstanceOf(PoolQueueFullError);
    expect(error).toBeInstanceOf(PoolError);
    expect(error.code).toBe('POOL_QUEUE_FULL');
    expect(error.name).toBe('PoolQueueFullError');
    expect(error.message).toContain('maxWaiting=2');
    expect(log.of('checkoutFailed')).toEqual([{ reason: 'queueFull', error, waitMs: 0 }]);
    expect(pool.stats().pending).toBe(2);
    expect(a.state).toBe('pending');
    expect(b.state).toBe('pending');

    // a served waiter makes room again
    pool.release(held);
    await tick();
    expect(a.state).toBe('fulfilled');
    const c = settle(pool.acquire());
    await tick();
    expect(c.state).toBe('pending');
    expect(pool.stats().pending).toBe(2);
    pool.release(a.value!);
    await tick();
    pool.release(b.value!);
    await tick();
    expect(c.state).toBe('fulfilled');
    pool.release(c.value!);
  });

  it('an aborted or timed-out waiter frees its place', async () => {
    const { pool } = makePool({ size: 1, maxOverflow: 0, maxWaiting: 1, acquireTimeoutMs: 1000 });
    const held = await pool.acquire();
    const controller = new AbortController();
    settle(pool.acquire({ signal: controller.signal }));
    await expect(pool.acquire()).rejects.toBeInstanceOf(PoolQueueFullError);
    controller.abort();
    const timed = settle(pool.acquire());
    await tick(1000);
    expect((timed.error as PoolError).code).toBe('POOL_TIMEOUT');
    const last = settle(pool.acquire());
    pool.release(held);
    await tick();
    expect(last.state).toBe('fulfilled');
    pool.release(last.value!);
  });

  it('maxWaiting 0: callers that would have to wait are refused, an idle connection is still handed out', async () => {
    const { pool } = makePool({ size: 1, maxOverflow: 0, maxWaiting: 0, minIdle: 1 });
    await pool.ready();
    const held = await pool.acquire();
    await expect(pool.acquire()).rejects.toMatchObject({ code: 'POOL_QUEUE_FULL' });
    pool.release(held);
    expect(await pool.acquire()).toBe(held);
    pool.release(held);
  });

  it('callers a new connection will serve do not count as waiting; those beyond the capacity do', async () => {
    const { pool } = makePool({ size: 2, maxOverflow: 0, maxWaiting: 1 }, { connectDelayMs: 100 });
    // two callers fit the capacity (two connections open for them), a third queues, a fourth is refused
    const served = [settle(pool.acquire()), settle(pool.acquire())];
    const queued = settle(pool.acquire());
    expect(pool.stats()).toMatchObject({ pending: 3, connecting: 2 });
    await expect(pool.acquire()).rejects.toMatchObject({ code: 'POOL_QUEUE_FULL' });
    await tick(100);
    expect(served.map((s) => s.state)).toEqual(['fulfilled', 'fulfilled']);
    expect(queued.state).toBe('pending');
    pool.release(served[0].value!);
    await tick();
    expect(queued.state).toBe('fulfilled');
    pool.release(served[1].value!);
    pool.release(queued.value!);
  });

  it('maxWaiting 0 on an empty pool still opens connections for callers up to the capacity', async () => {
    const { pool } = makePool({ size: 1, maxOverflow: 0, maxWaiting: 0 });
    const c = await pool.acquire();
    await expect(pool.acquire()).rejects.toMatchObject({ code: 'POOL_QUEUE_FULL' });
    pool.release(c);
  });

  it('the default (Infinity) lets 10000 callers wait', async () => {
    const { pool } = makePool({ size: 1, maxOverflow: 0 });
    const held = await pool.acquire();
    const waiters = Array.from({ length: 10_000 }, () => settle(pool.acquire()));
    await tick();
    expect(pool.stats().pending).toBe(10_000);
    expect(waiters.every((w) => w.state === 'pending')).toBe(true);
    let c = held;
    for (const w of waiters) {
      pool.release(c);
      await Promise.resolve();
      c = (w as { value: typeof held }).value;
    }
    await tick();
    expect(waiters.every((w) => w.state === 'fulfilled')).toBe(true);
    pool.release(waiters[waiters.length - 1].value!);
  });
});
