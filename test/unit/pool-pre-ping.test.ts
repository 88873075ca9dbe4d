import { describe, expect, it, vi } from 'vitest';
import type { FakeConnection } from '../support/fake-driver.js';
import { DisconnectError } from '../support/fake-driver.js';
import { makePool, settle, tick, useFakeClock } from '../support/pool-harness.js';

useFakeClock();

describe('prePing and prePingWindowMs', () => {
  it('a fresh connection and one used within the window are not pinged', async () => {
    const { pool } = makePool({ prePingWindowMs: 500 });
    const c = await pool.acquire();
    expect(c.pings).toBe(0);
    await tick(2000); // held long: the window counts from the last check-in
    pool.release(c);
    await tick(500);
    const again = await pool.acquire();
    expect(again).toBe(c);
    expect(c.pings).toBe(0);
    pool.release(again);
  });

  it('a connection idle longer than the window is pinged before it is handed out', async () => {
    const { pool, log } = makePool({ prePingWindowMs: 500 });
    const c = await pool.acquire();
    pool.release(c);
    await tick(501);
    const again = await pool.acquire();
    expect(again).toBe(c);
    expect(c.pings).toBe(1);
    expect(log.of('checkout')).toHaveLength(2);
    // just pinged: no second ping right after
    pool.release(again);
    expect((await pool.acquire()).pings).toBe(1);
  });

  it('prePingWindowMs 0 pings every checkout after any idle time; prePing false never pings', async () => {
    const a = makePool({ prePingWindowMs: 0 });
    const c = await a.pool.acquire();
    a.pool.release(c);
    await tick(1);
    a.pool.release(await a.pool.acquire());
    await tick(1);
    a.pool.release(await a.pool.acquire());
    expect(c.pings).toBe(2);

    const b = makePool({ prePing: false, idleTimeoutMs: 0, maxLifetimeMs: 0 });
    const d = await b.pool.acquire();
    b.pool.release(d);
    await tick(3_600_000);
    expect(await b.pool.acquire()).toBe(d);
    expect(d.pings).toBe(0);
  });

  it('pings one connection per waiter, not the whole idle list', async () => {
    const { pool } = makePool({ size: 3 });
    const conns = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    for (const c of conns) pool.release(c);
    await tick(1000);
    const got = await pool.acquire();
    expect(conns.reduce((n, c) => n + c.pings, 0)).toBe(1);
    expect(got.pings).toBe(1);
    pool.release(got);
  });

  it('a failing ping discards the connection, clears the pool, and the caller gets a new connection', async () => {
    const { pool, driver, log } = makePool({ size: 2 });
    const [a, b] = await Promise.all([pool.acquire(), pool.acquire()]);
    pool.release(a);
    pool.release(b);
    await tick(1000);
    driver.controls.pingResult = 'reject';
    const got = await pool.acquire();
    expect(got).not.toBe(a);
    expect(got).not.toBe(b);
    expect(driver.connects).toBe(3);
    // lifo: b was pinged and failed; a was closed by the clear that followed
    expect(b.pings).toBe(1);
    expect(log.of('invalidate')).toEqual([{ connectionId: 2, error: expect.any(DisconnectError) }]);
    expect(log.of('clear')).toEqual([{ generation: 1 }]);
    expect(log.of('close')).toEqual([
      { connectionId: 2, reason: 'invalidated' },
      { connectionId: 1, reason: 'stale' },
    ]);
    expect(a.closed && b.closed).toBe(true);
    expect(pool.stats()).toMatchObject({ generation: 1, used: 1, idle: 0, size: 1 });
    pool.release(got);
  });

  it('a ping that answers false retires that connection only and tries the next one', async () => {
    // one connection is dead (ping resolves false for it only); the other answers
    const { pool, driver, log } = makePool({ size: 2 });
    const [a, b] = await Promise.all([pool.acquire(), pool.acquire()]);
    pool.release(a);
    pool.release(b);
    await tick(1000);
    const ping = driver.ping.bind(driver);
    vi.spyOn(driver, 'ping').mockImplementation((conn: FakeConnection) =>
      conn === b ? Promise.resolve(false) : ping(conn),
    );
    const got = settle(pool.acquire());
    await tick();
    expect(got.state).toBe('fulfilled');
    expect(log.of('invalidate')).toHaveLength(1);
    expect(log.of('invalidate')[0]).toMatchObject({ connectionId: b.id });
    expect(String((log.of('invalidate')[0].error as Error).message)).toContain('ping returned false');
    // not a disconnect: no clear, the survivor was pinged and handed out
    expect(log.of('clear')).toHaveLength(0);
    expect(got.value).toBe(a);
    expect(a.pings).toBe(1);
    expect(driver.connects).toBe(2);
    expect(pool.stats().generation).toBe(0);
    pool.release(got.value!);
  });

  it('a ping rejected with an error that is not a disconnect retires that connection only', async () => {
    const { pool, driver, log } = makePool({ size: 2 });
    const [a, b] = await Promise.all([pool.acquire(), pool.acquire()]);
    pool.release(a);
    pool.release(b);
    await tick(1000);
    const ping = driver.ping.bind(driver);
    const odd = new Error('permission denied for function pg_sleep');
    vi.spyOn(driver, 'ping').mockImplementation((conn: FakeConnection) =>
      conn === b ? Promise.reject(odd) : ping(conn),
    );
    const got = await pool.acquire();
    expect(got).toBe(a);
    expect(log.of('invalidate')).toEqual([{ connectionId: b.id, error: odd }]);
    expect(log.of('clear')).toHaveLength(0);
    pool.release(got);
  });

  it('prePingWindowMs 0 pings every reuse, even when no time has passed', async () => {
    const { pool } = makePool({ prePingWindowMs: 0 });
    const c = await pool.acquire();
    expect(c.pings).toBe(0); // a fresh connection is not pinged
    for (let i = 1; i <= 3; i++) {
      pool.release(c);
      expect(await pool.acquire()).toBe(c);
      expect(c.pings).toBe(i);
    }
    pool.release(c);
  });

  it('a ping that resolves false counts as dead, like a rejection', async () => {
    const { pool, driver, log } = makePool({ size: 1 });
    const c = await pool.acquire();
    pool.release(c);
    await tick(1000);
    driver.controls.pingResult = 'false';
    const got = await pool.acquire();
    expect(got).not.toBe(c);
    expect(c.closed).toBe(true);
    expect(log.closeReasons()).toEqual(['invalidated']);
    pool.release(got);
  });

  it('a hanging ping is bounded by connectTimeoutMs', async () => {
    const { pool, driver, log } = makePool({ size: 1, connectTimeoutMs: 1000, acquireTimeoutMs: 30_000 });
    const c = await pool.acquire();
    pool.release(c);
    await tick(1000);
    driver.controls.pingResult = 'hang';
    const got = settle(pool.acquire());
    await tick(999);
    expect(got.state).toBe('pending');
    expect(pool.stats()).toMatchObject({ used: 1, idle: 0, pending: 1 });
    await tick(1);
    expect(got.state).toBe('fulfilled');
    expect(got.value).not.toBe(c);
    expect(c.closed).toBe(true);
    const [invalidated] = log.of('invalidate');
    expect((invalidated.error as Error).message).toContain('pre-ping timed out after 1000 ms');
    expect(log.of('checkout')[1].waitMs).toBe(1000);
    pool.release(got.value!);
  });

  it('checked-out connections of the old generation are closed at check-in after a failed ping', async () => {
    const { pool, driver, log } = makePool({ size: 2 });
    const [a, b] = await Promise.all([pool.acquire(), pool.acquire()]);
    pool.release(a);
    await tick(1000);
    driver.controls.pingResult = 'reject';
    const got = await pool.acquire();
    driver.controls.pingResult = 'ok';
    expect(pool.stats().generation).toBe(1);
    pool.release(b);
    expect(b.closed).toBe(true);
    expect(log.closeReasons()).toEqual(['invalidated', 'stale']);
    pool.release(got);
    expect(pool.stats()).toMatchObject({ idle: 1, used: 0 });
  });
});
