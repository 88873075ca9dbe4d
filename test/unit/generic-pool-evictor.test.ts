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

describe.each(impls)('generic-pool eviction of idle resources ($name)', (impl) => {
  let pool: PoolLike<Resource> | undefined;
  beforeEach(() => {
    useFakeClock();
  });
  afterEach(async () => {
    if (pool) await stopPool(pool);
    pool = undefined;
    useRealClock();
  });

  async function fill(p: PoolLike<Resource>, n: number): Promise<Resource[]> {
    const rs = await Promise.all(Array.from({ length: n }, () => p.acquire()));
    for (const r of rs) await p.release(r);
    return rs;
  }

  it('without evictionRunIntervalMillis idle resources are never evicted', async () => {
    const factory = new ResourceFactory();
    pool = impl.createPool(factory, { max: 3, idleTimeoutMillis: 50 });
    await fill(pool, 3);
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect(factory.destroyed).toBe(0);
    expect(pool.available).toBe(3);
  });

  it('idle resources older than idleTimeoutMillis are evicted by the evictor', async () => {
    const factory = new ResourceFactory();
    pool = impl.createPool(factory, {
      max: 2,
      idleTimeoutMillis: 50,
      evictionRunIntervalMillis: 10,
    });
    await fill(pool, 2);
    await vi.advanceTimersByTimeAsync(40);
    expect(factory.destroyed).toBe(0);
    await vi.advanceTimersByTimeAsync(40);
    await flush();
    expect(factory.destroyed).toBe(2);
    expect(pool.size).toBe(0);
    expect(pool.available).toBe(0);
  });

  it('a resource in use is never evicted', async () => {
    const factory = new ResourceFactory();
    pool = impl.createPool(factory, {
      max: 2,
      idleTimeoutMillis: 50,
      evictionRunIntervalMillis: 10,
    });
    const held = await pool.acquire();
    await vi.advanceTimersByTimeAsync(500);
    expect(factory.destroyed).toBe(0);
    expect(pool.isBorrowedResource(held)).toBe(true);
    await pool.release(held);
  });

  it('the default idleTimeoutMillis (30 s) keeps resources for a short while', async () => {
    const factory = new ResourceFactory();
    pool = impl.createPool(factory, { evictionRunIntervalMillis: 10 });
    await fill(pool, 1);
    await vi.advanceTimersByTimeAsync(30);
    expect(factory.destroyed).toBe(0);
    await vi.advanceTimersByTimeAsync(30_100);
    await flush();
    expect(factory.destroyed).toBe(1);
  });

  it('softIdleTimeoutMillis evicts idle resources but keeps min of them', async () => {
    const factory = new ResourceFactory();
    pool = impl.createPool(factory, {
      max: 3,
      min: 1,
      softIdleTimeoutMillis: 50,
      idleTimeoutMillis: 60 * 60_000,
      evictionRunIntervalMillis: 10,
    });
    await fill(pool, 3);
    await vi.advanceTimersByTimeAsync(200);
    await flush();
    expect(factory.destroyed).toBe(2);
    expect(pool.available).toBe(1);
    expect(pool.size).toBe(1);
  });

  // generic-pool's hard idleTimeoutMillis ignores min: the min resources are evicted and
  // immediately re-created (test "evictor removes instances on idletimeout").
  it.runIf(impl.name === 'generic-pool')('idleTimeoutMillis churns even the min resources', async () => {
    const factory = new ResourceFactory();
    pool = impl.createPool(factory, { min: 2, max: 2, idleTimeoutMillis: 50, evictionRunIntervalMillis: 10 });
    await vi.advanceTimersByTimeAsync(120);
    const r = await pool.acquire();
    expect(r.id).toBeGreaterThan(1);
    expect(factory.destroyed).toBeGreaterThanOrEqual(2);
    await pool.release(r);
  });

  // Deliberate difference: cistern keeps min resources warm instead of closing and
  // re-opening them; recycling old resources is maxLifetimeMs's job.
  it.runIf(impl.name === 'cistern')('idleTimeoutMillis keeps the min resources open', async () => {
    const factory = new ResourceFactory();
    pool = impl.createPool(factory, { min: 2, max: 2, idleTimeoutMillis: 50, evictionRunIntervalMillis: 10 });
    await vi.advanceTimersByTimeAsync(120);
    const r = await pool.acquire();
    expect(r.id).toBeLessThanOrEqual(1);
    expect(factory.destroyed).toBe(0);
    await pool.release(r);
  });

  it.runIf(impl.name === 'cistern')('maxLifetimeMs recycles resources that are too old', async () => {
    const factory = new ResourceFactory();
    pool = impl.createPool(factory, { max: 1, maxLifetimeMs: 1000 });
    const first = await pool.acquire();
    await pool.release(first);
    await vi.advanceTimersByTimeAsync(1100);
    const next = await pool.acquire();
    await flush();
    expect(next).not.toBe(first);
    expect(factory.bin).toContain(first);
    await pool.release(next);
  });
});
