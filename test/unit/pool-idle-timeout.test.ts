import { describe, expect, it } from 'vitest';
import { makePool, pendingTimers, tick, useFakeClock } from '../support/pool-harness.js';

useFakeClock();

describe('idleTimeoutMs', () => {
  it('closes idle connections beyond minIdle after the timeout, with reason idle', async () => {
    const { pool, driver, log } = makePool({ size: 5, minIdle: 2, idleTimeoutMs: 1000, maxLifetimeMs: 0 });
    await pool.ready();
    const conns = await Promise.all(Array.from({ length: 5 }, () => pool.acquire()));
    for (const c of conns) pool.release(c);
    expect(pool.stats().idle).toBe(5);
    await tick(999);
    expect(log.of('close')).toHaveLength(0);
    await tick(250); // the sweeper runs every idleTimeoutMs / 4
    expect(log.closeReasons()).toEqual(['idle', 'idle', 'idle']);
    expect(pool.stats()).toMatchObject({ idle: 2, size: 2 });
    expect(driver.open.size).toBe(2);
    // minIdle stays: no more closes however long the pool sits
    await tick(3600_000);
    expect(log.of('close')).toHaveLength(3);
    expect(pool.stats().idle).toBe(2);
  });

  it('counts only idle connections against minIdle: no close-and-reopen churn under load', async () => {
    const { pool, driver, log } = makePool({ size: 5, minIdle: 2, idleTimeoutMs: 1000, maxLifetimeMs: 0 });
    await pool.ready();
    const held = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    await tick(10); // the sweeper refills minIdle: 3 used + 2 idle
    expect(pool.stats()).toMatchObject({ used: 3, idle: 2, size: 5 });
    const connects = driver.connects;
    await tick(10_000);
    expect(log.of('close')).toHaveLength(0);
    expect(driver.connects).toBe(connects);
    for (const c of held) pool.release(c);
    await tick(1250);
    expect(log.closeReasons()).toEqual(['idle', 'idle', 'idle']);
    expect(pool.stats()).toMatchObject({ idle: 2, size: 2 });
  });

  it('closes the least recently used first, keeping the warm ones', async () => {
    const { pool, log } = makePool({
      size: 3,
      minIdle: 1,
      idleTimeoutMs: 1000,
      maxLifetimeMs: 0,
      prePing: false,
    });
    const [a, b, c] = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    pool.release(a);
    await tick(100);
    pool.release(b);
    await tick(100);
    pool.release(c);
    await tick(1500);
    expect(log.of('close').map((e) => e.connectionId)).toEqual([a, b].map((x) => x.id));
    expect(await pool.acquire()).toBe(c);
  });

  it('a connection used again in time is not closed', async () => {
    const { pool, log } = makePool({ size: 2, idleTimeoutMs: 1000, maxLifetimeMs: 0, prePing: false });
    const c = await pool.acquire();
    for (let i = 0; i < 10; i++) {
      pool.release(c);
      await tick(800);
      expect(await pool.acquire()).toBe(c);
    }
    pool.release(c);
    expect(log.of('close')).toHaveLength(0);
    await tick(1250);
    expect(log.closeReasons()).toEqual(['idle']);
  });

  it('with minIdle 0 every idle connection closes', async () => {
    const { pool } = makePool({ size: 3, idleTimeoutMs: 1000, maxLifetimeMs: 0 });
    const conns = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    for (const c of conns) pool.release(c);
    await tick(1250);
    expect(pool.stats()).toMatchObject({ idle: 0, size: 0 });
    expect(conns.every((c) => c.closed)).toBe(true);
  });

  it('never closes a checked-out connection', async () => {
    const { pool, log } = makePool({ idleTimeoutMs: 1000, maxLifetimeMs: 0 });
    const c = await pool.acquire();
    await tick(10_000);
    expect(c.closed).toBe(false);
    expect(log.of('close')).toHaveLength(0);
    pool.release(c);
  });

  it('idleTimeoutMs 0 keeps idle connections forever', async () => {
    const { pool, log } = makePool({ size: 3, idleTimeoutMs: 0, maxLifetimeMs: 0 });
    const conns = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    for (const c of conns) pool.release(c);
    await tick(30 * 24 * 3600_000);
    expect(log.of('close')).toHaveLength(0);
    expect(pool.stats().idle).toBe(3);
  });
});

describe('idleTimeoutMs under 20 ms: one timer at the earliest idle deadline', () => {
  const tiny = { maxLifetimeMs: 0, prePing: false, acquireTimeoutMs: Number.POSITIVE_INFINITY } as const;

  it('closes an idle connection 1 ms after check-in with idleTimeoutMs 1, every time', async () => {
    // pg-pool's "can remove idle clients and recreate them": the sweeper's 5 ms floor missed it
    const { pool, driver, log } = makePool({ ...tiny, size: 2, idleTimeoutMs: 1 });
    for (let i = 1; i <= 20; i++) {
      const c = await pool.acquire();
      expect(pool.stats()).toMatchObject({ size: 1, idle: 0 });
      pool.release(c);
      expect(pool.stats()).toMatchObject({ size: 1, idle: 1 });
      await tick(1);
      expect(pool.stats()).toMatchObject({ size: 0, idle: 0 });
      expect(c.closed).toBe(true);
    }
    expect(driver.connects).toBe(20);
    expect(log.closeReasons()).toEqual(Array(20).fill('idle'));
  });

  it('closes each connection at its own deadline, least recently used first', async () => {
    const { pool, log } = makePool({ ...tiny, size: 3, idleTimeoutMs: 10 });
    const [a, b] = await Promise.all([pool.acquire(), pool.acquire()]);
    pool.release(a);
    await tick(4);
    pool.release(b);
    await tick(5);
    expect(log.of('close')).toHaveLength(0);
    await tick(1); // a's deadline (10 ms after its check-in)
    expect(log.of('close').map((e) => e.connectionId)).toEqual([a.id]);
    await tick(3);
    expect(log.of('close')).toHaveLength(1);
    await tick(1); // b's deadline
    expect(log.of('close').map((e) => e.connectionId)).toEqual([a.id, b.id]);
  });

  it('a connection checked out before its deadline stays open, and times out after its next check-in', async () => {
    const { pool, log } = makePool({ ...tiny, size: 2, idleTimeoutMs: 5 });
    const c = await pool.acquire();
    pool.release(c);
    await tick(3);
    expect(await pool.acquire()).toBe(c);
    await tick(10);
    expect(c.closed).toBe(false);
    pool.release(c);
    await tick(4);
    expect(c.closed).toBe(false);
    await tick(1);
    expect(c.closed).toBe(true);
    expect(log.closeReasons()).toEqual(['idle']);
  });

  it('keeps minIdle idle connections and arms no idle timer for them', async () => {
    const { pool, log } = makePool({ ...tiny, size: 3, minIdle: 1, idleTimeoutMs: 4 });
    await pool.ready();
    const conns = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    for (const c of conns) pool.release(c);
    await tick(4);
    expect(log.closeReasons()).toEqual(['idle', 'idle']);
    expect(pool.stats()).toMatchObject({ idle: 1, size: 1 });
    // only the sweeper's interval is left (for 4 ms: every 5 ms), no one-shot idle timer re-armed
    expect(await pendingTimers()).toBe(1);
    await tick(60_000);
    expect(pool.stats()).toMatchObject({ idle: 1, size: 1 });
  });

  it('a normal idle timeout arms no timer at check-in: only the sweeper runs', async () => {
    const { pool } = makePool({ ...tiny, size: 3, idleTimeoutMs: 20 });
    const conns = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    expect(await pendingTimers()).toBe(1);
    for (const c of conns) pool.release(c);
    expect(await pendingTimers()).toBe(1);
    // and the sweeper (every 5 ms) closes them up to 5 ms late
    await tick(25);
    expect(pool.stats()).toMatchObject({ idle: 0, size: 0 });
  });

  it('the idle timer stops when the pool closes', async () => {
    const { pool } = makePool({ ...tiny, size: 2, idleTimeoutMs: 10 });
    pool.release(await pool.acquire());
    expect(await pendingTimers()).toBe(2); // the sweeper and the idle timer
    await pool.close();
    expect(await pendingTimers()).toBe(0);
  });
});
