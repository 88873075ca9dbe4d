import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  impls,
  type PoolLike,
  type Resource,
  settle,
  stopPool,
  useFakeClock,
  useRealClock,
} from '../support/generic-pool-impls.js';

describe.each(impls)('generic-pool events and create errors ($name)', (impl) => {
  let pool: PoolLike<Resource> | undefined;
  beforeEach(() => {
    useFakeClock();
  });
  afterEach(async () => {
    if (pool) await stopPool(pool);
    pool = undefined;
    useRealClock();
  });

  function failingFactory(failures: number) {
    let attempts = 0;
    return {
      get attempts() {
        return attempts;
      },
      create: (): Promise<Resource> => {
        attempts++;
        if (attempts <= failures) return Promise.reject(new Error(`create failed #${attempts}`));
        return Promise.resolve({ id: attempts });
      },
      destroy: () => Promise.resolve(),
    };
  }

  it('the pool is an EventEmitter', () => {
    pool = impl.createPool(failingFactory(0), { max: 1 });
    expect(pool).toBeInstanceOf(EventEmitter);
  });

  it('a failed create emits factoryCreateError and the acquire keeps waiting until a create succeeds', async () => {
    const factory = failingFactory(5);
    pool = impl.createPool(factory, { max: 1 });
    const errors: Error[] = [];
    pool.on('factoryCreateError', (e: Error) => errors.push(e));
    const request = settle(pool.acquire());
    await vi.advanceTimersByTimeAsync(10_000);
    expect(request.state).toBe('fulfilled');
    expect(request.value).toEqual({ id: 6 });
    expect(errors.map((e) => e.message)).toEqual([1, 2, 3, 4, 5].map((n) => `create failed #${n}`));
    expect(pool.pending).toBe(0);
    expect(pool.size).toBe(1);
    await pool.release(request.value as Resource);
  });

  it('create errors never populate the pool', async () => {
    const factory = failingFactory(1);
    pool = impl.createPool(factory, { max: 1 });
    pool.on('factoryCreateError', () => {});
    const request = settle(pool.acquire());
    await vi.advanceTimersByTimeAsync(10_000);
    expect(request.state).toBe('fulfilled');
    expect(pool.available).toBe(0);
    expect(pool.borrowed).toBe(1);
    expect(pool.size).toBe(1);
    await pool.release(request.value as Resource);
  });

  // generic-pool re-runs a failing create in a tight promise loop: with a create that always
  // fails its acquire timer can never fire (the microtask queue never drains) and the process
  // spins until it runs out of memory, so this case runs against cistern only, which retries
  // with a back-off and times out with the last create error as the cause.
  it.runIf(impl.name === 'cistern')(
    'with acquireTimeoutMillis a create that always fails ends in a timeout',
    async () => {
      const factory = failingFactory(Number.POSITIVE_INFINITY);
      pool = impl.createPool(factory, { max: 1, acquireTimeoutMillis: 1000 });
      const errors: unknown[] = [];
      pool.on('factoryCreateError', (e: unknown) => errors.push(e));
      const request = settle(pool.acquire());
      await vi.advanceTimersByTimeAsync(1000);
      expect(request.state).toBe('rejected');
      expect(impl.isTimeoutError(request.error)).toBe(true);
      expect(errors.length).toBeGreaterThan(0);
      expect(pool.pending).toBe(0);
    },
  );

  it('a failed create while opening min emits factoryCreateError', async () => {
    const factory = failingFactory(1);
    const errors: unknown[] = [];
    pool = impl.createPool(factory, { max: 2, min: 1, autostart: false });
    pool.on('factoryCreateError', (e: unknown) => errors.push(e));
    pool.start();
    await vi.advanceTimersByTimeAsync(10);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('create failed #1');
  });
});
