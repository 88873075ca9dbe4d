import { describe, expect, it } from 'vitest';
import { makePool, settle, tick, useFakeClock } from '../support/pool-harness.js';

useFakeClock();

describe('clear() and generations', () => {
  it('closes idle connections now and checked-out ones at check-in, with reason stale', async () => {
    const { pool, log } = makePool({ size: 4 });
    const [a, b, c, d] = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire(), pool.acquire()]);
    pool.release(a);
    pool.release(b);
    expect(pool.stats().generation).toBe(0);
    pool.clear();
    expect(log.of('clear')).toEqual([{ generation: 1 }]);
    expect(pool.stats()).toMatchObject({ generation: 1, idle: 0, used: 2, size: 2 });
    expect(a.closed && b.closed).toBe(true);
    expect(c.closed || d.closed).toBe(false); // never closed under their holders
    pool.release(c);
    expect(c.closed).toBe(true);
    expect(log.of('close')).toEqual([
      { connectionId: a.id, reason: 'stale' },
      { connectionId: b.id, reason: 'stale' },
      { connectionId: c.id, reason: 'stale' },
    ]);
    // the clear event comes before the closes it causes
    expect(log.names().indexOf('clear')).toBeLessThan(log.names().indexOf('close'));
    pool.release(d);
    expect(pool.stats()).toMatchObject({ size: 0, idle: 0, used: 0 });
  });

  it('connections opened after a clear belong to the new generation and are reused', async () => {
    const { pool, driver } = makePool({});
    pool.release(await pool.acquire());
    pool.clear();
    const fresh = await pool.acquire();
    pool.release(fresh);
    expect(await pool.acquire()).toBe(fresh);
    expect(driver.connects).toBe(2);
    pool.release(fresh);
  });

  it('a stale connection released while callers wait is replaced by a new one for them', async () => {
    const { pool, driver } = makePool({ size: 1, maxOverflow: 0 });
    const held = await pool.acquire();
    const waiter = settle(pool.acquire());
    pool.clear();
    pool.release(held);
    await tick();
    expect(waiter.state).toBe('fulfilled');
    expect(waiter.value).not.toBe(held);
    expect(driver.maxOpen).toBe(1);
    pool.release(waiter.value!);
  });

  it('a connection being opened during a clear serves its caller', async () => {
    const { pool, log } = makePool({}, { connectDelayMs: 100 });
    const waiter = settle(pool.acquire());
    await tick(50);
    pool.clear();
    await tick(50);
    // the core stamps a connection with the generation current when it is adopted, so the
    // caller is served by it at once (CMAP stamps it at creation and would close it)
    expect(waiter.state).toBe('fulfilled');
    expect(waiter.value!.closed).toBe(false);
    expect(log.of('close')).toHaveLength(0);
    pool.release(waiter.value!);
    expect(pool.stats()).toMatchObject({ idle: 1, generation: 1 });
  });

  it('each clear bumps the generation; clear on a closed pool does nothing', async () => {
    const { pool, log } = makePool({});
    pool.clear();
    pool.clear();
    expect(pool.stats().generation).toBe(2);
    expect(log.of('clear')).toEqual([{ generation: 1 }, { generation: 2 }]);
    await pool.close();
    pool.clear();
    expect(pool.stats().generation).toBe(2);
  });

  it('clear closes a quietly dead idle connection as stale; a killed one is invalidated', async () => {
    const { pool, log } = makePool({});
    const c = await pool.acquire();
    pool.release(c);
    c.dead = true; // dead, but the driver did not call onDead
    pool.clear();
    expect(log.closeReasons()).toEqual(['stale']);
    const d = await pool.acquire();
    d.kill();
    pool.release(d);
    expect(log.closeReasons()).toEqual(['stale', 'invalidated']);
  });
});
