// What cistern/generic-pool adds to generic-pool's API: these cases run against cistern only.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import genericPool, { createPool, Pool } from '../../src/generic-pool/index.js';
import { isPoolError, PoolConfigError, PoolTimeoutError } from '../../src/pool/errors.js';
import type { PoolEvents } from '../../src/pool/types.js';
import {
  flush,
  type PoolLike,
  type Resource,
  ResourceFactory,
  stopPool,
  useFakeClock,
  useRealClock,
} from '../support/generic-pool-impls.js';

describe('cistern/generic-pool extras', () => {
  let pool: ReturnType<typeof createPool<Resource>> | undefined;
  beforeEach(() => {
    useFakeClock();
  });
  afterEach(async () => {
    if (pool) await stopPool(pool as unknown as PoolLike<unknown>);
    pool = undefined;
    useRealClock();
  });

  it('offers the same default export as generic-pool: createPool and Pool', async () => {
    expect(genericPool.createPool).toBe(createPool);
    expect(genericPool.Pool).toBe(Pool);
    pool = genericPool.createPool(new ResourceFactory(), { max: 1 });
    expect(pool).toBeInstanceOf(Pool);
    await pool.release(await pool.acquire());
  });

  it('pool.cistern is the core pool: its events report checkouts and why resources close', async () => {
    const factory = new ResourceFactory();
    pool = createPool(factory, { max: 2, name: 'workers' });
    const core = pool.cistern!;
    expect(core.name).toBe('workers');
    const checkouts: PoolEvents['checkout'][] = [];
    const closes: PoolEvents['close'][] = [];
    core.on('checkout', (e) => checkouts.push(e));
    core.on('close', (e) => closes.push(e));
    const a = await pool.acquire();
    const b = await pool.acquire();
    await pool.destroy(a);
    await pool.release(b);
    await pool.clear();
    expect(checkouts).toHaveLength(2);
    expect(closes.map((c) => c.reason)).toEqual(['invalidated', 'stale']);
    expect(core.stats()).toMatchObject({ size: 0, idle: 0, used: 0 });
  });

  it('maxOverflow opens extra resources under load and closes them when returned', async () => {
    const factory = new ResourceFactory();
    pool = createPool(factory, { max: 2, maxOverflow: 2 });
    expect(pool.max).toBe(4);
    const held = await Promise.all([1, 2, 3, 4].map(() => pool!.acquire()));
    expect(pool.size).toBe(4);
    expect(pool.spareResourceCapacity).toBe(0);
    for (const r of held) await pool.release(r);
    await flush();
    expect(factory.destroyed).toBe(2);
    expect(pool.size).toBe(2);
    expect(pool.available).toBe(2);
  });

  it('maxUses destroys a resource after that many loans', async () => {
    const factory = new ResourceFactory();
    pool = createPool(factory, { max: 1, maxUses: 2 });
    const first = await pool.acquire();
    await pool.release(first);
    expect(await pool.acquire()).toBe(first);
    await pool.release(first);
    await flush();
    expect(factory.bin).toEqual([first]);
    const next = await pool.acquire();
    expect(next.id).toBe(1);
    await pool.release(next);
  });

  it('leakTimeoutMs reports a loan held too long, with the stack of its acquire', async () => {
    pool = createPool(new ResourceFactory(), { max: 1, leakTimeoutMs: 1000 });
    const leaks: PoolEvents['leak'][] = [];
    pool.cistern!.on('leak', (e) => leaks.push(e));
    const r = await pool.acquire();
    await vi.advanceTimersByTimeAsync(900);
    expect(leaks).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(400);
    expect(leaks).toHaveLength(1);
    expect(leaks[0].heldMs).toBeGreaterThanOrEqual(1000);
    expect(leaks[0].stack).toContain('generic-pool-cistern.test.ts');
    await pool.release(r);
  });

  it('a timeout after failed creates carries the last create error as its cause', async () => {
    const boom = new Error('no route to host');
    pool = createPool<Resource>(
      { create: () => Promise.reject(boom), destroy: () => Promise.resolve() },
      { max: 1, acquireTimeoutMillis: 500 },
    );
    const errors: unknown[] = [];
    pool.on('factoryCreateError', (e: unknown) => errors.push(e));
    const request = pool.acquire().then(
      () => undefined,
      (e: unknown) => e,
    );
    await vi.advanceTimersByTimeAsync(500);
    const error = await request;
    expect(error).toBeInstanceOf(PoolTimeoutError);
    // generic-pool's name, so `err.name === 'TimeoutError'` checks keep working
    expect((error as Error).name).toBe('TimeoutError');
    expect(isPoolError(error)).toBe(true);
    expect((error as PoolTimeoutError).code).toBe('POOL_TIMEOUT');
    expect(String(error)).toMatch(/^TimeoutError: ResourceRequest timed out after 500 ms/);
    // the cause is the core's ConnectError, whose own cause is the factory's error
    const cause = (error as PoolTimeoutError).cause as Error & { code?: string };
    expect(cause.code).toBe('CONNECT_FAILED');
    expect(cause.cause).toBe(boom);
    // the core backs off between attempts: a handful of creates, not a hot loop
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.length).toBeLessThan(10);
  });

  it('rejects invalid values at createPool, naming the option', () => {
    const factory = new ResourceFactory();
    expect(() => createPool(factory, { acquireTimeoutMillis: -5 })).toThrow(PoolConfigError);
    expect(() => createPool(factory, { acquireTimeoutMillis: -5 })).toThrow(/acquireTimeoutMillis/);
    expect(() => createPool(factory, { maxOverflow: -1 })).toThrow(/maxOverflow/);
    expect(() => createPool(factory, { maxOverflow: -1, autostart: false })).toThrow(/maxOverflow/);
  });

  it('ignores unknown options and the Promise option, as generic-pool does', async () => {
    const factory = new ResourceFactory();
    pool = createPool(factory, { log: false, Promise: class {} } as never);
    const r = await pool.acquire();
    await pool.release(r);
    expect(factory.created).toBe(1);
  });

  it('accepts telemetry: false and still works; pools are named generic-pool by default', async () => {
    pool = createPool(new ResourceFactory(), { max: 1, telemetry: false });
    expect(pool.cistern?.name).toBe('generic-pool');
    await pool.release(await pool.acquire());
    expect(pool.available).toBe(1);
  });

  it('a factoryCreateError listener that throws does not break the pool', async () => {
    let attempts = 0;
    pool = createPool<Resource>(
      {
        create: () =>
          attempts++ === 0 ? Promise.reject(new Error('first fails')) : Promise.resolve({ id: attempts }),
        destroy: () => Promise.resolve(),
      },
      { max: 1 },
    );
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    pool.on('factoryCreateError', () => {
      throw new Error('listener bug');
    });
    const request = pool.acquire();
    await vi.advanceTimersByTimeAsync(5000);
    const r = await request;
    await new Promise((resolve) => process.nextTick(resolve));
    process.off('warning', onWarning);
    expect(r.id).toBe(2);
    expect(warnings.some((w) => w.includes('listener bug'))).toBe(true);
    await pool.release(r);
  });

  it('a release inside use() is not an error', async () => {
    pool = createPool(new ResourceFactory(), { max: 1 });
    const value = await pool.use(async (r) => {
      await pool!.release(r);
      return 'ok';
    });
    expect(value).toBe('ok');
    expect(pool.borrowed).toBe(0);
    expect(pool.available).toBe(1);
  });

  it('drain with priorities settles waiters queued before it', async () => {
    pool = createPool(new ResourceFactory(), { max: 1, priorityRange: 3 });
    const held = await pool.acquire();
    const waiter = pool.acquire(2);
    await flush();
    const drained = pool.drain();
    await pool.release(held);
    const r = await waiter;
    await pool.release(r);
    await drained;
    await pool.clear();
    expect(pool.size).toBe(0);
  });
});
