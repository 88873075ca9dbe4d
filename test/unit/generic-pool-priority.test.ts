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

describe.each(impls)('generic-pool priority ($name)', (impl) => {
  let pool: PoolLike<Resource> | undefined;
  beforeEach(() => {
    useFakeClock();
  });
  afterEach(async () => {
    if (pool) await stopPool(pool);
    pool = undefined;
    useRealClock();
  });

  async function order(calls: number[], opts: Record<string, unknown>): Promise<number[]> {
    const p = impl.createPool(new ResourceFactory(), { max: 1, ...opts });
    pool = p;
    const held = await p.acquire();
    const served: number[] = [];
    const waiters = calls.map((priority, i) =>
      p.acquire(priority).then(async (r) => {
        served.push(i);
        await p.release(r);
      }),
    );
    await flush();
    expect(p.pending).toBe(calls.length);
    await p.release(held);
    await Promise.all(waiters);
    return served;
  }

  it('high-priority waiters (lower number) are served before low-priority ones', async () => {
    // 10 low (1) then 10 high (0), like generic-pool's "supports priority on borrow"
    const calls = [...Array(10).fill(1), ...Array(10).fill(0)];
    const served = await order(calls, { priorityRange: 2 });
    expect(served).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('waiters of equal priority keep arrival order', async () => {
    const served = await order([2, 0, 2, 1, 0, 1], { priorityRange: 3 });
    expect(served).toEqual([1, 4, 3, 5, 0, 2]);
  });

  it('a priority outside the range joins the lowest priority', async () => {
    const served = await order([5, 1, -1, 0], { priorityRange: 2 });
    expect(served).toEqual([3, 0, 1, 2]);
  });

  it('with the default priorityRange of 1 priorities are ignored', async () => {
    const served = await order([1, 0, 3, 0], {});
    expect(served).toEqual([0, 1, 2, 3]);
  });

  it('a timed-out high-priority waiter does not take the resource from a low-priority one', async () => {
    const p = impl.createPool(new ResourceFactory(), { max: 1, priorityRange: 2, acquireTimeoutMillis: 100 });
    pool = p;
    const held = await p.acquire();
    await vi.advanceTimersByTimeAsync(60);
    const low = settle(p.acquire(1));
    const high = settle(p.acquire(0));
    await vi.advanceTimersByTimeAsync(100);
    expect(low.state).toBe('rejected');
    expect(high.state).toBe('rejected');
    const late = settle(p.acquire(1));
    await vi.advanceTimersByTimeAsync(50);
    await p.release(held);
    await flush();
    expect(late.state).toBe('fulfilled');
    await p.release(late.value as Resource);
  });

  it('each waiter keeps its own deadline when a higher priority overtakes it', async () => {
    const p = impl.createPool(new ResourceFactory(), { max: 1, priorityRange: 2, acquireTimeoutMillis: 100 });
    pool = p;
    const held = await p.acquire();
    const low = settle(p.acquire(1));
    await vi.advanceTimersByTimeAsync(50);
    const high = settle(p.acquire(0));
    await p.release(held);
    await flush();
    expect(high.state).toBe('fulfilled');
    expect(low.state).toBe('pending');
    await vi.advanceTimersByTimeAsync(49);
    expect(low.state).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(low.state).toBe('rejected');
    expect(impl.isTimeoutError(low.error)).toBe(true);
    await p.release(high.value as Resource);
  });

  it('maxWaitingClients counts waiters of every priority', async () => {
    const p = impl.createPool(new ResourceFactory(), { max: 1, priorityRange: 2, maxWaitingClients: 2 });
    pool = p;
    const held = await p.acquire();
    const a = settle(p.acquire(1));
    const b = settle(p.acquire(0));
    const refused = settle(p.acquire(0));
    await flush();
    expect(refused.state).toBe('rejected');
    expect(impl.isQueueFullError(refused.error)).toBe(true);
    expect(p.pending).toBe(2);
    await p.release(held);
    await flush();
    expect(b.state).toBe('fulfilled');
    await p.release(b.value as Resource);
    await flush();
    expect(a.state).toBe('fulfilled');
    await p.release(a.value as Resource);
  });

  it('a resource destroyed by a high-priority holder is replaced for the next waiter', async () => {
    const factory = new ResourceFactory();
    const p = impl.createPool(factory, { max: 1, priorityRange: 2 });
    pool = p;
    const held = await p.acquire();
    const low = settle(p.acquire(1));
    await flush();
    await p.destroy(held);
    await flush();
    expect(low.state).toBe('fulfilled');
    expect(low.value).not.toBe(held);
    expect(factory.created).toBe(2);
    await p.release(low.value as Resource);
  });
});
