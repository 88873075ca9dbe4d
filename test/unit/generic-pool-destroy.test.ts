import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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

describe.each(impls)('generic-pool destroy ($name)', (impl) => {
  let pool: PoolLike<Resource> | undefined;
  beforeEach(() => {
    useFakeClock();
  });
  afterEach(async () => {
    if (pool) await stopPool(pool);
    pool = undefined;
    useRealClock();
  });

  it('destroy calls factory.destroy and the resource is never lent again', async () => {
    const factory = new ResourceFactory();
    pool = impl.createPool(factory, { max: 1 });
    const resource = await pool.acquire();
    await pool.destroy(resource);
    await flush();
    expect(factory.destroyed).toBe(1);
    expect(factory.bin).toEqual([resource]);
    expect(pool.isBorrowedResource(resource)).toBe(false);
    expect(pool.borrowed).toBe(0);
    expect(pool.size).toBe(0);
    const next = await pool.acquire();
    expect(next).not.toBe(resource);
    expect(next.id).toBe(1);
    await pool.release(next);
  });

  it('destroy re-dispenses: a waiter gets a newly created resource', async () => {
    const factory = new ResourceFactory();
    pool = impl.createPool(factory, { max: 1 });
    const first = await pool.acquire();
    const waiter = settle(pool.acquire());
    await flush();
    expect(pool.pending).toBe(1);
    await pool.destroy(first);
    await flush();
    expect(waiter.state).toBe('fulfilled');
    expect(waiter.value).not.toBe(first);
    expect(pool.pending).toBe(0);
    expect(pool.borrowed).toBe(1);
    expect(pool.available).toBe(0);
    expect(factory.created).toBe(2);
    await pool.release(waiter.value as Resource);
  });

  it('destroy of a resource that is not on loan rejects and destroys nothing', async () => {
    const factory = new ResourceFactory();
    pool = impl.createPool(factory, { max: 1 });
    const resource = await pool.acquire();
    await pool.release(resource);
    const error = await pool.destroy(resource).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(impl.isNotBorrowedError(error)).toBe(true);
    const stranger = await pool.destroy({ id: 42 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(impl.isNotBorrowedError(stranger)).toBe(true);
    await flush();
    expect(factory.destroyed).toBe(0);
    expect(pool.available).toBe(1);
  });

  it('a destroy that rejects emits factoryDestroyError and the pool goes on', async () => {
    const errors: unknown[] = [];
    let id = 0;
    const boom = new Error('destroy failed');
    pool = impl.createPool(
      {
        create: () => Promise.resolve({ id: id++ }),
        destroy: () => Promise.reject(boom),
      },
      { max: 1 },
    );
    pool.on('factoryDestroyError', (e: unknown) => errors.push(e));
    const resource = await pool.acquire();
    await pool.destroy(resource);
    await flush();
    expect(errors).toEqual([boom]);
    const next = await pool.acquire();
    expect(next.id).toBe(1);
    await pool.release(next);
  });

  it('a destroy that returns nothing (not a promise) is accepted', async () => {
    let destroyed = 0;
    pool = impl.createPool(
      {
        create: () => Promise.resolve({ id: 1 }),
        destroy: () => {
          destroyed++;
        },
      },
      { max: 1 },
    );
    const resource = await pool.acquire();
    await pool.destroy(resource);
    await flush();
    expect(destroyed).toBe(1);
    expect(pool.size).toBe(0);
  });
});
