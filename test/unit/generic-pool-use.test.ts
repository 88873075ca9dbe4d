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

describe.each(impls)('generic-pool use() ($name)', (impl) => {
  let pool: PoolLike<Resource> | undefined;
  beforeEach(() => {
    useFakeClock();
  });
  afterEach(async () => {
    if (pool) await stopPool(pool);
    pool = undefined;
    useRealClock();
  });

  it('passes a resource to fn and releases it afterwards', async () => {
    const factory = new ResourceFactory();
    pool = impl.createPool(factory);
    let seen: Resource | undefined;
    await pool.use((resource) => {
      seen = resource;
      expect(pool!.isBorrowedResource(resource)).toBe(true);
      return Promise.resolve();
    });
    expect(seen).toEqual({ id: 0 });
    await flush();
    expect(pool.borrowed).toBe(0);
    expect(pool.available).toBe(1);
  });

  it('resolves with the value of fn, after fn has settled', async () => {
    pool = impl.createPool(new ResourceFactory());
    let done = false;
    const result = settle(
      pool.use(
        () =>
          new Promise<string>((resolve) => {
            setTimeout(() => {
              done = true;
              resolve('value');
            }, 20);
          }),
      ),
    );
    await vi.advanceTimersByTimeAsync(19);
    expect(result.state).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(result.state).toBe('fulfilled');
    expect(done).toBe(true);
    expect(result.value).toBe('value');
  });

  it('a rejecting fn rejects use with the same error and destroys the resource', async () => {
    const factory = new ResourceFactory();
    pool = impl.createPool(factory);
    const boom = new Error('boom');
    const error = await pool
      .use(() => Promise.reject(boom))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBe(boom);
    await flush();
    expect(factory.destroyed).toBe(1);
    expect(pool.borrowed).toBe(0);
    expect(pool.size).toBe(0);
  });

  it('use takes a priority', async () => {
    pool = impl.createPool(new ResourceFactory(), { max: 1, priorityRange: 2 });
    const held = await pool.acquire();
    const order: string[] = [];
    const low = pool.use(async () => {
      order.push('low');
    }, 1);
    const high = pool.use(async () => {
      order.push('high');
    }, 0);
    await flush();
    await pool.release(held);
    await Promise.all([low, high]);
    expect(order).toEqual(['high', 'low']);
  });

  // generic-pool calls fn(resource).then(...): a synchronous fn makes use() reject with a
  // TypeError and the resource stays on loan forever. cistern awaits whatever fn returns.
  it.runIf(impl.name === 'cistern')('accepts a synchronous fn and releases the resource', async () => {
    pool = impl.createPool(new ResourceFactory());
    const value = await pool.use(((r: Resource) => r.id + 41) as never);
    expect(value).toBe(41);
    expect(pool.borrowed).toBe(0);
    expect(pool.available).toBe(1);
  });

  it.runIf(impl.name === 'cistern')(
    'a synchronously throwing fn rejects use and destroys the resource',
    async () => {
      const factory = new ResourceFactory();
      pool = impl.createPool(factory);
      const boom = new Error('sync boom');
      const error = await pool
        .use(() => {
          throw boom;
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBe(boom);
      await flush();
      expect(factory.destroyed).toBe(1);
      expect(pool.borrowed).toBe(0);
    },
  );
});
