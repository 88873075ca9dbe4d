/**
 * `connectBackoff`: the wait before connecting again after a round of failed connects
 * (`{ initialMs, maxMs }`, doubling, jittered), or `false` for none (pg-pool's behaviour:
 * every waiting caller's connect goes out at once). The default schedule (100 ms to 2 s)
 * is tested in pool-max-connecting.test.ts.
 */
import { describe, expect, it, vi } from 'vitest';
import type { ConnectContext } from '../../src/pool/driver.js';
import { ConnectError } from '../../src/pool/errors.js';
import type { FakeDriver } from '../support/fake-driver.js';
import { makePool, pendingTimers, rejection, settle, tick, useFakeClock } from '../support/pool-harness.js';

useFakeClock();

/** The (fake) times at which connects start, from now. */
function starts(driver: FakeDriver): number[] {
  const t0 = performance.now();
  const seen: number[] = [];
  const connect = driver.connect.bind(driver);
  driver.connect = (ctx: ConnectContext) => {
    seen.push(performance.now() - t0);
    return connect(ctx);
  };
  return seen;
}

describe('connectBackoff: { initialMs, maxMs }', () => {
  it('waits initialMs after the first failed round, doubling to maxMs (jitter pinned)', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5); // jitter factor 1
    const { pool, driver } = makePool(
      { size: 1, maxOverflow: 0, maxConnecting: 1, connectBackoff: { initialMs: 10, maxMs: 50 } },
      { connectError: new Error('connect ECONNREFUSED 127.0.0.1:1') },
    );
    const seen = starts(driver);
    const calls = Array.from({ length: 8 }, () => settle(pool.acquire()));
    await tick(300);
    // 10, 20, 40, then capped at 50
    expect(seen).toEqual([0, 10, 30, 70, 120, 170, 220, 270]);
    expect(calls.every((c) => c.state === 'rejected')).toBe(true);
  });

  it('is jittered by 0.75-1.25 around the custom schedule too', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const { pool, driver } = makePool(
      { size: 1, maxConnecting: 1, connectBackoff: { initialMs: 40, maxMs: 40 } },
      { connectError: new Error('no') },
    );
    const seen = starts(driver);
    const calls = [settle(pool.acquire()), settle(pool.acquire())];
    await tick(29);
    expect(seen).toEqual([0]);
    await tick(1);
    expect(seen).toEqual([0, 30]);
    await tick();
    expect(calls.map((c) => c.state)).toEqual(['rejected', 'rejected']);
  });
});

describe('connectBackoff: false', () => {
  it("each caller's connect goes out at once after a failure, and the first success serves at once", async () => {
    // pg-pool's "cleans up clients after repeated hook failures": ten connects in a row fail,
    // each rejects its caller, and the eleventh works with no wait in between
    const { pool, driver, log } = makePool(
      { size: 2, maxOverflow: 0, connectBackoff: false },
      { connectError: (n: number) => (n <= 10 ? new Error(`hook error ${n}`) : undefined) },
    );
    const seen = starts(driver);
    for (let i = 1; i <= 10; i++) {
      const error = (await rejection(pool.acquire())) as ConnectError;
      expect(error).toBeInstanceOf(ConnectError);
      expect((error.cause as Error).message).toBe(`hook error ${i}`);
    }
    expect(seen).toEqual(Array(10).fill(0)); // no fake time passed between them
    expect(pool.stats()).toMatchObject({ size: 0, idle: 0, connecting: 0 });
    const a = await pool.acquire();
    const b = await pool.acquire();
    expect(a).not.toBe(b);
    expect(seen).toEqual(Array(12).fill(0));
    expect(log.of('connectFailed')).toHaveLength(10);
    pool.release(a);
    pool.release(b);
  });

  it('arms no backoff timer: nothing is left pending after the failures (the default leaves one)', async () => {
    // no sweeper, no acquire timeout: the only timer a failure can leave is the backoff's
    const quiet = { size: 1, idleTimeoutMs: 0, maxLifetimeMs: 0, acquireTimeoutMs: Number.POSITIVE_INFINITY };
    const off = makePool({ ...quiet, connectBackoff: false }, { connectError: new Error('down') }).pool;
    await rejection(off.acquire());
    await rejection(off.acquire());
    expect(await pendingTimers()).toBe(0);
    await off.close();
    const on = makePool(quiet, { connectError: new Error('down') }).pool;
    await rejection(on.acquire());
    expect(await pendingTimers()).toBe(1);
  });

  it('never loops on its own: one connect per waiting caller, each failure fails the longest waiter', async () => {
    const { pool, driver } = makePool(
      { size: 3, maxOverflow: 0, maxConnecting: 3, connectBackoff: false },
      { connectError: new Error('down'), connectDelayMs: 5 },
    );
    const calls = Array.from({ length: 5 }, () => settle(pool.acquire()));
    await tick(100);
    expect(calls.every((c) => c.state === 'rejected')).toBe(true);
    // 5 callers, 5 attempts: three at once, then one for each caller still waiting
    expect(driver.connectAttempts).toBe(5);
    await tick(10_000);
    expect(driver.connectAttempts).toBe(5);
    expect(pool.stats()).toMatchObject({ size: 0, pending: 0, connecting: 0 });
  });

  it('a ready() with refillMinIdle false fails once and does not retry on its own', async () => {
    const { pool, driver } = makePool(
      { size: 2, minIdle: 2, refillMinIdle: false, connectBackoff: false },
      { connectError: new Error('down') },
    );
    const error = await rejection(pool.ready());
    expect(error).toBeInstanceOf(ConnectError);
    await tick(10_000);
    // the ready() round opened at most maxConnecting connects, and nothing retried afterwards
    expect(driver.connectAttempts).toBeLessThanOrEqual(2);
    expect(driver.connectAttempts).toBeGreaterThanOrEqual(1);
  });
});
