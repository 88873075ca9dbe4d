import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  flush,
  impls,
  type PoolLike,
  type Resource,
  ResourceFactory,
  stopPool,
  useFakeClock,
  useRealClock,
} from '../support/generic-pool-impls.js';

describe.each(impls)('generic-pool validation: testOnBorrow and the factory check ($name)', (impl) => {
  let pool: PoolLike<Resource> | undefined;
  beforeEach(() => {
    useFakeClock();
  });
  afterEach(async () => {
    if (pool) await stopPool(pool);
    pool = undefined;
    useRealClock();
  });

  it('rejects a factory without create, without destroy, or with a validate that is not a function', () => {
    const destroy = () => Promise.resolve();
    const create = () => Promise.resolve({ id: 0 });
    expect(() => impl.createPool({ destroy } as never)).toThrow(
      new TypeError('factory.create must be a function'),
    );
    expect(() => impl.createPool({ create } as never)).toThrow(
      new TypeError('factory.destroy must be a function'),
    );
    expect(() => impl.createPool({ create, destroy, validate: 1 } as never)).toThrow(
      new TypeError('factory.validate must be a function'),
    );
  });

  it('without testOnBorrow validate is never called', async () => {
    const factory = new ResourceFactory();
    pool = impl.createPool(factory, { max: 1 });
    for (let i = 0; i < 3; i++) await pool.release(await pool.acquire());
    expect(factory.validated).toBe(0);
  });

  // cistern maps testOnBorrow to prePing with a 0 ms window, which validates every borrow, even
  // one in the same event-loop turn as the return. The cases below let 1 ms pass after the
  // first release so both implementations start from an idle resource.
  const later = () => vi.advanceTimersByTimeAsync(1);

  it('with testOnBorrow an idle resource is validated on every borrow', async () => {
    const factory = new ResourceFactory();
    pool = impl.createPool(factory, { max: 1, testOnBorrow: true });
    const first = await pool.acquire();
    await pool.release(first);
    await later();
    const before = factory.validated;
    for (let i = 0; i < 3; i++) {
      const r = await pool.acquire();
      expect(r).toBe(first);
      await pool.release(r);
      await later();
    }
    expect(factory.validated - before).toBe(3);
    expect(factory.created).toBe(1);
  });

  it('a resource that fails validation is destroyed and the acquire gets a new one', async () => {
    const factory = new ResourceFactory();
    pool = impl.createPool(factory, { max: 2, testOnBorrow: true });
    const first = await pool.acquire();
    await pool.release(first);
    await later();
    factory.invalid.add(first.id);
    const next = await pool.acquire();
    await flush();
    expect(next).not.toBe(first);
    expect(factory.bin).toEqual([first]);
    expect(factory.destroyed).toBe(1);
    expect(pool.size).toBe(1);
    await pool.release(next);
  });

  it('several invalid idle resources are all skipped and destroyed', async () => {
    const factory = new ResourceFactory();
    pool = impl.createPool(factory, { max: 3, testOnBorrow: true });
    const rs = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    for (const r of rs) await pool.release(r);
    await later();
    factory.invalid.add(0);
    factory.invalid.add(1);
    const got = await pool.acquire();
    await flush();
    expect([0, 1]).not.toContain(got.id);
    expect(factory.bin.map((r) => r.id)).toEqual(expect.arrayContaining([0, 1]));
    expect(factory.bin).not.toContain(got);
    await pool.release(got);
  });

  it('a failed validation destroys only that resource', async () => {
    const factory = new ResourceFactory();
    pool = impl.createPool(factory, { max: 3, testOnBorrow: true });
    const rs = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    for (const r of rs) await pool.release(r);
    await later();
    factory.invalid.add(0);
    const got = await pool.acquire();
    await flush();
    expect(got.id).toBe(1);
    expect(factory.bin.map((r) => r.id)).toEqual([0]);
    await pool.release(got);
  });

  it('several failed validations destroy those resources and keep the valid one', async () => {
    const factory = new ResourceFactory();
    pool = impl.createPool(factory, { max: 3, testOnBorrow: true });
    const rs = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    for (const r of rs) await pool.release(r);
    await later();
    for (const r of rs) if (r !== rs[1]) factory.invalid.add(r.id);
    const got = await pool.acquire();
    await flush();
    expect(got.id).toBe(rs[1].id);
    expect(factory.bin.every((r) => r.id !== rs[1].id)).toBe(true);
    await pool.release(got);
  });

  it.runIf(impl.name === 'cistern')(
    'prePingWindowMs skips validation of a resource used recently',
    async () => {
      const factory = new ResourceFactory();
      pool = impl.createPool(factory, { max: 1, testOnBorrow: true, prePingWindowMs: 1000 });
      await pool.release(await pool.acquire());
      await vi.advanceTimersByTimeAsync(500);
      await pool.release(await pool.acquire());
      expect(factory.validated).toBe(0);
      await vi.advanceTimersByTimeAsync(1001);
      await pool.release(await pool.acquire());
      expect(factory.validated).toBe(1);
    },
  );

  // generic-pool leaves a validate rejection unhandled and the resource stuck "in test";
  // cistern treats a rejection like `false`.
  it.runIf(impl.name === 'cistern')('a validate that rejects counts as invalid', async () => {
    const factory = new ResourceFactory();
    let fail = false;
    pool = impl.createPool(
      {
        create: factory.create,
        destroy: factory.destroy,
        validate: () => (fail ? Promise.reject(new Error('ping failed')) : Promise.resolve(true)),
      },
      { max: 1, testOnBorrow: true },
    );
    const first = await pool.acquire();
    await pool.release(first);
    await later();
    fail = true;
    const acquiring = pool.acquire();
    await flush();
    fail = false;
    const next = await acquiring;
    expect(next).not.toBe(first);
    expect(factory.bin).toEqual([first]);
    await pool.release(next);
  });
});
