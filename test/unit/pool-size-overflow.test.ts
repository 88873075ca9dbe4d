import { describe, expect, it } from 'vitest';
import type { FakeConnection } from '../support/fake-driver.js';
import { makePool, settle, tick, useFakeClock } from '../support/pool-harness.js';

useFakeClock();

describe('pool size and maxOverflow', () => {
  it('opens up to size + maxOverflow, queues the rest, and never exceeds the maximum', async () => {
    const { pool, driver } = makePool({ size: 2, maxOverflow: 1 });
    const calls = Array.from({ length: 5 }, () => settle(pool.acquire()));
    await tick();
    expect(calls.map((c) => c.state)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'pending', 'pending']);
    expect(driver.connects).toBe(3);
    expect(driver.maxOpen).toBe(3);
    expect(pool.stats()).toMatchObject({ size: 3, used: 3, idle: 0, pending: 2, overflow: 1, max: 3 });

    // a release hands the connection straight to the longest waiter: no close, no new connect
    pool.release(calls[0].value!);
    await tick();
    expect(calls[3].state).toBe('fulfilled');
    expect(calls[3].value).toBe(calls[0].value);
    expect(driver.connects).toBe(3);
    expect(driver.maxOpen).toBe(3);
  });

  it('closes an overflow connection at check-in with reason overflow, and keeps size warm', async () => {
    const { pool, driver, log } = makePool({ size: 2, maxOverflow: 2 });
    const conns = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire(), pool.acquire()]);
    expect(pool.stats()).toMatchObject({ size: 4, overflow: 2, used: 4 });
    for (const c of conns) pool.release(c);
    await tick();
    // whichever checks in while more than size are open is the one closed (SQLAlchemy QueuePool)
    expect(log.of('close')).toEqual([
      { connectionId: 1, reason: 'overflow' },
      { connectionId: 2, reason: 'overflow' },
    ]);
    expect(conns[0].closed && conns[1].closed).toBe(true);
    expect(conns[2].closed || conns[3].closed).toBe(false);
    expect(pool.stats()).toMatchObject({ size: 2, idle: 2, used: 0, overflow: 0 });
    expect(driver.open.size).toBe(2);
  });

  it('maxOverflow 0 never opens more than size', async () => {
    const { pool, driver } = makePool({ size: 3, maxOverflow: 0 });
    const calls = Array.from({ length: 10 }, () => settle(pool.acquire()));
    await tick();
    expect(calls.filter((c) => c.state === 'fulfilled')).toHaveLength(3);
    for (let i = 0; i < 7; i++) {
      const holder = calls.find((c) => c.state === 'fulfilled' && !(c.value as FakeConnection).closed)!;
      calls.splice(calls.indexOf(holder), 1);
      pool.release(holder.value!);
      await tick();
    }
    expect(driver.maxOpen).toBe(3);
    expect(driver.connects).toBe(3);
  });

  it('maxOverflow Infinity serves every caller at once and closes all overflow on check-in', async () => {
    const { pool, driver, log } = makePool({
      size: 2,
      maxOverflow: Number.POSITIVE_INFINITY,
      maxConnecting: 100,
    });
    expect(pool.stats().max).toBe(Number.POSITIVE_INFINITY);
    const conns = await Promise.all(Array.from({ length: 50 }, () => pool.acquire()));
    expect(new Set(conns).size).toBe(50);
    expect(pool.stats()).toMatchObject({ size: 50, used: 50, overflow: 48, pending: 0 });
    for (const c of conns) pool.release(c);
    await tick();
    expect(log.closeReasons()).toEqual(Array(48).fill('overflow'));
    expect(driver.open.size).toBe(2);
    expect(pool.stats()).toMatchObject({ size: 2, idle: 2, overflow: 0 });
  });

  it('a churn of acquires and releases never exceeds size + maxOverflow nor hands one connection twice', async () => {
    const { pool, driver } = makePool({ size: 3, maxOverflow: 2, maxConnecting: 3 }, { connectDelayMs: 3 });
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const holders = new Set<FakeConnection>();
    let maxHeld = 0;
    let served = 0;
    const work = async () => {
      const c = await pool.acquire();
      expect(holders.has(c)).toBe(false);
      holders.add(c);
      maxHeld = Math.max(maxHeld, holders.size);
      await tick(Math.floor(rand() * 10));
      holders.delete(c);
      pool.release(c);
      served++;
    };
    const jobs: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      jobs.push(work());
      if (i % 10 === 0) await tick(1);
      expect(pool.stats().size).toBeLessThanOrEqual(5);
    }
    await tick(5_000);
    await Promise.all(jobs);
    expect(served).toBe(200);
    expect(maxHeld).toBeLessThanOrEqual(5);
    expect(driver.maxOpen).toBeLessThanOrEqual(5);
    expect(pool.stats()).toMatchObject({ used: 0, pending: 0, overflow: 0 });
  });
});
