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

describe.each(impls)('generic-pool acquire/release ($name)', (impl) => {
  let pool: PoolLike<Resource> | undefined;
  beforeEach(() => {
    useFakeClock();
  });
  afterEach(async () => {
    if (pool) await stopPool(pool);
    pool = undefined;
    useRealClock();
  });

  it('acquire creates a resource and lends it out', async () => {
    const factory = new ResourceFactory();
    pool = impl.createPool(factory, { max: 1 });
    const resource = await pool.acquire();
    expect(resource).toEqual({ id: 0 });
    expect(pool.available).toBe(0);
    expect(pool.borrowed).toBe(1);
    expect(pool.size).toBe(1);
    expect(pool.isBorrowedResource(resource)).toBe(true);
    await pool.release(resource);
  });

  it('release puts the resource back: available grows, borrowed shrinks, size stays', async () => {
    const factory = new ResourceFactory();
    pool = impl.createPool(factory, { max: 2 });
    expect(pool.size).toBe(0);
    expect(pool.available).toBe(0);
    const a = await pool.acquire();
    expect(pool.size).toBe(1);
    const b = await pool.acquire();
    expect(pool.size).toBe(2);
    expect(pool.available).toBe(0);
    await pool.release(a);
    expect(pool.available).toBe(1);
    await pool.release(b);
    expect(pool.available).toBe(2);
    expect(pool.borrowed).toBe(0);
    const c = await pool.acquire();
    expect(pool.size).toBe(2);
    expect(pool.available).toBe(1);
    expect(factory.created).toBe(2);
    expect([a, b]).toContain(c);
    await pool.release(c);
    expect(pool.available).toBe(2);
    expect(pool.isBorrowedResource(c)).toBe(false);
  });

  it('release of an object that is not on loan rejects and leaves the pool intact', async () => {
    pool = impl.createPool(new ResourceFactory(), { max: 1 });
    const resource = await pool.acquire();
    const error = await pool.release({ id: 99 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(impl.isNotBorrowedError(error)).toBe(true);
    expect(pool.available).toBe(0);
    expect(pool.borrowed).toBe(1);
    await pool.release(resource);
    expect(pool.available).toBe(1);
    expect(pool.borrowed).toBe(0);
  });

  it('a second release of the same resource rejects', async () => {
    pool = impl.createPool(new ResourceFactory(), { max: 1 });
    const resource = await pool.acquire();
    await pool.release(resource);
    const error = await pool.release(resource).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(impl.isNotBorrowedError(error)).toBe(true);
    expect(pool.available).toBe(1);
    expect(pool.size).toBe(1);
  });

  it('an acquire beyond max waits (pending) and gets the released resource', async () => {
    const factory = new ResourceFactory();
    pool = impl.createPool(factory, { max: 1 });
    const first = await pool.acquire();
    const second = settle(pool.acquire());
    await flush();
    expect(second.state).toBe('pending');
    expect(pool.pending).toBe(1);
    expect(pool.borrowed).toBe(1);
    await pool.release(first);
    await flush();
    expect(second.state).toBe('fulfilled');
    expect(second.value).toBe(first);
    expect(pool.pending).toBe(0);
    expect(pool.borrowed).toBe(1);
    expect(pool.available).toBe(0);
    expect(factory.created).toBe(1);
    await pool.release(first);
  });

  it('isBorrowedResource is true while on loan and false after release or for strangers', async () => {
    pool = impl.createPool(new ResourceFactory(), { max: 1 });
    const resource = await pool.acquire();
    expect(pool.isBorrowedResource(resource)).toBe(true);
    expect(pool.isBorrowedResource({ id: 0 })).toBe(false);
    await pool.release(resource);
    expect(pool.isBorrowedResource(resource)).toBe(false);
  });

  it('fifo (the default) hands out the resource idle the longest', async () => {
    pool = impl.createPool(new ResourceFactory(), { max: 3 });
    const [a, b, c] = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    await pool.release(b);
    await pool.release(c);
    await pool.release(a);
    const next = await pool.acquire();
    expect(next).toBe(b);
    await pool.release(next);
  });

  it('fifo: false hands out the resource released last', async () => {
    pool = impl.createPool(new ResourceFactory(), { max: 3, fifo: false });
    const [a, b, c] = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    await pool.release(b);
    await pool.release(c);
    await pool.release(a);
    const next = await pool.acquire();
    expect(next).toBe(a);
    await pool.release(next);
  });

  it('waiters are served in arrival order', async () => {
    pool = impl.createPool(new ResourceFactory(), { max: 1 });
    const held = await pool.acquire();
    const order: number[] = [];
    const waiters = [0, 1, 2, 3].map((i) =>
      pool!.acquire().then(async (r) => {
        order.push(i);
        await pool!.release(r);
      }),
    );
    await flush();
    expect(pool.pending).toBe(4);
    await pool.release(held);
    await Promise.all(waiters);
    expect(order).toEqual([0, 1, 2, 3]);
  });

  it('many concurrent acquires never exceed max and never share a resource', async () => {
    const factory = new ResourceFactory();
    factory.createDelayMs = 5;
    pool = impl.createPool(factory, { max: 3 });
    const holders = new Set<Resource>();
    let maxSize = 0;
    let served = 0;
    const jobs = Array.from({ length: 30 }, (_, i) =>
      pool!.acquire().then(async (r) => {
        expect(holders.has(r)).toBe(false);
        holders.add(r);
        maxSize = Math.max(maxSize, pool!.size);
        await new Promise((resolve) => setTimeout(resolve, 1 + (i % 4)));
        holders.delete(r);
        served++;
        await pool!.release(r);
      }),
    );
    await vi.advanceTimersByTimeAsync(500);
    await Promise.all(jobs);
    expect(served).toBe(30);
    expect(maxSize).toBeLessThanOrEqual(3);
    expect(factory.created).toBe(3);
    expect(pool.pending).toBe(0);
    expect(pool.borrowed).toBe(0);
  });
});
