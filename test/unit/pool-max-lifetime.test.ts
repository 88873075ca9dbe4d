import { describe, expect, it, vi } from 'vitest';
import { makePool, settle, tick, useFakeClock } from '../support/pool-harness.js';

useFakeClock();

describe('maxLifetimeMs (recycling)', () => {
  it('jitters each connection down by up to 2.5 %: the recycle times spread over the whole window', async () => {
    const N = 40;
    const L = 10_000;
    // connection i draws i/N: its lifetime is L * (1 - 0.025 * i/N)
    let draw = 0;
    vi.spyOn(Math, 'random').mockImplementation(() => (draw++ % N) / N);
    // minIdle = size keeps every connection warm, so only the lifetime closes them;
    // a short idleTimeoutMs makes the sweeper run every 5 ms
    const { pool, log } = makePool({
      size: N,
      minIdle: N,
      maxConnecting: N,
      maxLifetimeMs: L,
      idleTimeoutMs: 20,
      prePing: false,
    });
    const t0 = performance.now();
    await pool.ready();
    expect(pool.stats().idle).toBe(N);
    const recycledAt = new Map<number, number>();
    pool.on('close', ({ connectionId, reason }) => {
      if (reason === 'recycled') recycledAt.set(connectionId, performance.now() - t0);
    });
    await tick(L * 0.975 - 10);
    expect(recycledAt.size).toBe(0);
    await tick(20 + L * 0.025);
    const firstGeneration = [...recycledAt].filter(([id]) => id <= N);
    expect(firstGeneration).toHaveLength(N);
    for (const [id, at] of firstGeneration) {
      const expected = L * (1 - (0.025 * (id - 1)) / N);
      expect(at).toBeGreaterThanOrEqual(expected);
      expect(at).toBeLessThanOrEqual(expected + 5); // the sweeper's period
    }
    const times = firstGeneration.map(([, at]) => at);
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(L * 0.02);
    // every connection lived no longer than maxLifetimeMs and no shorter than 97.5 % of it
    expect(Math.min(...times)).toBeGreaterThanOrEqual(L * 0.975);
    expect(Math.max(...times)).toBeLessThanOrEqual(L + 5);
    expect(log.closeReasons().every((r) => r === 'recycled')).toBe(true);
    // and minIdle was refilled with new connections
    await tick(10);
    expect(pool.stats().idle).toBe(N);
  });

  it('recycles at check-in: a connection past its lifetime is closed instead of going idle', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const { pool, log } = makePool({ maxLifetimeMs: 60_000 });
    const c = await pool.acquire();
    await tick(60_000);
    expect(c.closed).toBe(false); // never closed under its holder
    pool.release(c);
    await tick();
    expect(c.closed).toBe(true);
    expect(log.of('close')).toEqual([{ connectionId: 1, reason: 'recycled' }]);
    expect(pool.stats()).toMatchObject({ size: 0, idle: 0, used: 0 });
  });

  it('recycles at check-in with a waiter: the waiter gets a new connection', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const { pool, driver } = makePool({ size: 1, maxOverflow: 0, maxLifetimeMs: 60_000 });
    const c = await pool.acquire();
    await tick(60_000);
    const waiter = settle(pool.acquire());
    pool.release(c);
    await tick();
    expect(waiter.state).toBe('fulfilled');
    expect(waiter.value).not.toBe(c);
    expect(driver.connects).toBe(2);
    expect(driver.maxOpen).toBe(1);
    pool.release(waiter.value!);
  });

  it('recycles at checkout: an idle connection past its lifetime is closed before the sweeper sees it', async () => {
    // lifetime 10000 * (1 - 0.025 * 0.6) = 9850; the sweeper runs every 2500 ms
    vi.spyOn(Math, 'random').mockReturnValue(0.6);
    const { pool, log } = makePool({ maxLifetimeMs: 10_000, prePing: false });
    const c = await pool.acquire();
    pool.release(c);
    await tick(9_849);
    expect(await pool.acquire()).toBe(c);
    pool.release(c);
    await tick(1); // 9850: expired, the next sweep is at 10000
    const next = await pool.acquire();
    expect(next).not.toBe(c);
    expect(c.closed).toBe(true);
    expect(log.of('close')).toEqual([{ connectionId: 1, reason: 'recycled' }]);
    pool.release(next);
  });

  it('recycles idle connections in the sweeper, with nobody acquiring', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const { pool, log } = makePool({ maxLifetimeMs: 10_000 });
    pool.release(await pool.acquire());
    await tick(9_999);
    expect(pool.stats().idle).toBe(1);
    await tick(1);
    expect(log.closeReasons()).toEqual(['recycled']);
    expect(pool.stats()).toMatchObject({ idle: 0, size: 0 });
  });

  it('never recycles a connection under its holder', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const { pool, log } = makePool({ maxLifetimeMs: 1_000 });
    const c = await pool.acquire();
    await tick(10_000);
    expect(c.closed).toBe(false);
    expect(log.of('close')).toHaveLength(0);
    pool.release(c);
    expect(log.closeReasons()).toEqual(['recycled']);
  });

  it('maxLifetimeMs 0 never recycles', async () => {
    const { pool, log } = makePool({ maxLifetimeMs: 0, idleTimeoutMs: 0 });
    const c = await pool.acquire();
    pool.release(c);
    await tick(365 * 24 * 3600_000);
    expect(await pool.acquire()).toBe(c);
    expect(log.of('close')).toHaveLength(0);
  });
});
