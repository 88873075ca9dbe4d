import { describe, expect, it } from 'vitest';
import { makePool, settle, tick, useFakeClock } from '../support/pool-harness.js';

useFakeClock();

describe('maxUses', () => {
  it('closes a connection at the check-in of its last allowed use, with reason maxUses', async () => {
    const { pool, driver, log } = makePool({ maxUses: 3 });
    const first = await pool.acquire();
    pool.release(first);
    expect(await pool.acquire()).toBe(first);
    pool.release(first);
    expect(await pool.acquire()).toBe(first);
    expect(first.closed).toBe(false);
    pool.release(first);
    expect(first.closed).toBe(true);
    expect(log.of('close')).toEqual([{ connectionId: 1, reason: 'maxUses' }]);
    expect(pool.stats()).toMatchObject({ size: 0, idle: 0 });
    const second = await pool.acquire();
    expect(second).not.toBe(first);
    expect(driver.connects).toBe(2);
    pool.release(second);
  });

  it('a waiter behind a worn-out connection gets a new one', async () => {
    const { pool, driver } = makePool({ size: 1, maxOverflow: 0, maxUses: 1 });
    const c = await pool.acquire();
    const waiter = settle(pool.acquire());
    pool.release(c);
    await tick();
    expect(waiter.state).toBe('fulfilled');
    expect(waiter.value).not.toBe(c);
    expect(driver.maxOpen).toBe(1);
    pool.release(waiter.value!);
  });

  it('maxUses 1 gives every checkout a fresh connection; uses through use() count too', async () => {
    const { pool, driver, log } = makePool({ maxUses: 1 });
    const seen = new Set<number>();
    for (let i = 0; i < 5; i++) await pool.use((c) => seen.add(c.id));
    expect(seen.size).toBe(5);
    expect(driver.connects).toBe(5);
    expect(log.closeReasons()).toEqual(Array(5).fill('maxUses'));
  });

  it('an invalidated use counts nothing more: the next checkout is a new connection anyway', async () => {
    const { pool, log } = makePool({ maxUses: 2 });
    const c = await pool.acquire();
    pool.invalidate(c);
    const d = await pool.acquire();
    pool.release(d);
    expect(log.closeReasons()).toEqual(['invalidated']);
    expect(d.closed).toBe(false);
  });

  it('by default (Infinity) a connection is reused without limit', async () => {
    const { pool, driver } = makePool({});
    for (let i = 0; i < 1000; i++) pool.release(await pool.acquire());
    expect(driver.connects).toBe(1);
  });
});
