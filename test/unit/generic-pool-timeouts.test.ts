import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  flush,
  impls,
  type PoolLike,
  type Resource,
  ResourceFactory,
  settle,
  stopPool,
  useFakeClock,
  useRealClock,
} from '../support/generic-pool-impls.js';

describe.each(impls)('generic-pool timeouts ($name)', (impl) => {
  let pool: PoolLike<Resource> | undefined;
  beforeEach(() => {
    useFakeClock();
  });
  afterEach(async () => {
    if (pool) await stopPool(pool);
    pool = undefined;
    useRealClock();
  });

  it('acquireTimeoutMillis rejects an acquire whose create is slower; the late resource goes to the pool', async () => {
    const factory = new ResourceFactory();
    factory.createDelayMs = 100;
    pool = impl.createPool(factory, { acquireTimeoutMillis: 20, idleTimeoutMillis: 150 });
    const request = settle(pool.acquire());
    await vi.advanceTimersByTimeAsync(19);
    expect(request.state).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(request.state).toBe('rejected');
    expect(impl.isTimeoutError(request.error)).toBe(true);
    expect(pool.pending).toBe(0);
    await vi.advanceTimersByTimeAsync(100);
    expect(factory.created).toBe(1);
    expect(pool.available).toBe(1);
    expect(pool.borrowed).toBe(0);
  });

  it('an acquire served before acquireTimeoutMillis resolves and never rejects later', async () => {
    const factory = new ResourceFactory();
    factory.createDelayMs = 10;
    pool = impl.createPool(factory, { acquireTimeoutMillis: 400 });
    const request = settle(pool.acquire());
    await vi.advanceTimersByTimeAsync(10);
    expect(request.state).toBe('fulfilled');
    await vi.advanceTimersByTimeAsync(1000);
    expect(request.state).toBe('fulfilled');
    await pool.release(request.value as Resource);
  });

  it('a waiter behind a borrowed resource times out; the next release makes the resource available', async () => {
    pool = impl.createPool(new ResourceFactory(), { max: 1, acquireTimeoutMillis: 50 });
    const held = await pool.acquire();
    const waiter = settle(pool.acquire());
    await vi.advanceTimersByTimeAsync(50);
    expect(waiter.state).toBe('rejected');
    expect(impl.isTimeoutError(waiter.error)).toBe(true);
    expect(pool.pending).toBe(0);
    await pool.release(held);
    await flush();
    expect(pool.available).toBe(1);
    expect(pool.borrowed).toBe(0);
  });

  it('timed-out waiters never take a resource; later waiters still get one', async () => {
    pool = impl.createPool(new ResourceFactory(), { max: 1, acquireTimeoutMillis: 50 });
    const held = await pool.acquire();
    const early = settle(pool.acquire());
    await vi.advanceTimersByTimeAsync(30);
    const late = settle(pool.acquire());
    await vi.advanceTimersByTimeAsync(20);
    expect(early.state).toBe('rejected');
    expect(late.state).toBe('pending');
    await pool.release(held);
    await flush();
    expect(late.state).toBe('fulfilled');
    expect(late.value).toBe(held);
    await pool.release(held);
  });

  it('without acquireTimeoutMillis an acquire waits indefinitely', async () => {
    pool = impl.createPool(new ResourceFactory(), { max: 1 });
    const held = await pool.acquire();
    const waiter = settle(pool.acquire());
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect(waiter.state).toBe('pending');
    await pool.release(held);
    await flush();
    expect(waiter.state).toBe('fulfilled');
    await pool.release(held);
  });

  it('destroyTimeoutMillis: a slow destroy emits factoryDestroyError "destroy timed out"', async () => {
    const errors: unknown[] = [];
    pool = impl.createPool(
      {
        create: () => Promise.resolve({ id: 1 }),
        destroy: () => new Promise<void>((resolve) => setTimeout(resolve, 100)),
      },
      { destroyTimeoutMillis: 20 },
    );
    pool.on('factoryDestroyError', (e: unknown) => errors.push(e));
    const resource = await pool.acquire();
    await pool.destroy(resource);
    await vi.advanceTimersByTimeAsync(19);
    expect(errors).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toMatch(/destroy timed out/);
    await vi.advanceTimersByTimeAsync(100);
    expect(errors).toHaveLength(1);
  });

  it('destroyTimeoutMillis: a destroy within the limit emits nothing', async () => {
    const errors: unknown[] = [];
    pool = impl.createPool(
      {
        create: () => Promise.resolve({ id: 1 }),
        destroy: () => new Promise<void>((resolve) => setTimeout(resolve, 10)),
      },
      { destroyTimeoutMillis: 400 },
    );
    pool.on('factoryDestroyError', (e: unknown) => errors.push(e));
    const resource = await pool.acquire();
    await pool.destroy(resource);
    await vi.advanceTimersByTimeAsync(1000);
    expect(errors).toHaveLength(0);
  });
});
