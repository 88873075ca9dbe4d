import { describe, expect, it, vi } from 'vitest';
import type { ConnectContext } from '../../src/pool/driver.js';
import { ConnectError } from '../../src/pool/errors.js';
import type { FakeDriver } from '../support/fake-driver.js';
import { makePool, settle, tick, useFakeClock } from '../support/pool-harness.js';

useFakeClock();

/** Record when each connect starts and how many are in flight at most. */
function watch(driver: FakeDriver) {
  const t0 = performance.now();
  const seen = { starts: [] as number[], inFlight: 0, maxInFlight: 0 };
  const connect = driver.connect.bind(driver);
  driver.connect = (ctx: ConnectContext) => {
    seen.starts.push(performance.now() - t0);
    seen.inFlight++;
    seen.maxInFlight = Math.max(seen.maxInFlight, seen.inFlight);
    const p = connect(ctx);
    p.then(
      () => seen.inFlight--,
      () => seen.inFlight--,
    );
    return p;
  };
  return seen;
}

describe('maxConnecting', () => {
  it('never has more than maxConnecting connects in flight', async () => {
    const { pool, driver } = makePool({ size: 10, maxConnecting: 2 }, { connectDelayMs: 100 });
    const seen = watch(driver);
    const calls = Array.from({ length: 10 }, () => settle(pool.acquire()));
    expect(pool.stats()).toMatchObject({ connecting: 2, pending: 10 });
    for (let step = 1; step <= 5; step++) {
      await tick(100);
      expect(calls.filter((c) => c.state === 'fulfilled')).toHaveLength(2 * step);
      expect(pool.stats().connecting).toBeLessThanOrEqual(2);
    }
    expect(seen.maxInFlight).toBe(2);
    expect(seen.starts).toEqual([0, 0, 100, 100, 200, 200, 300, 300, 400, 400]);
  });

  it('maxConnecting 1 opens one at a time, minIdle included', async () => {
    const { pool, driver } = makePool({ size: 4, minIdle: 4, maxConnecting: 1 }, { connectDelayMs: 50 });
    const seen = watch(driver);
    await tick(); // the constructor starts filling minIdle on a microtask
    const ready = settle(pool.ready());
    await tick(199);
    expect(ready.state).toBe('pending');
    await tick(1);
    expect(ready.state).toBe('fulfilled');
    expect(seen.maxInFlight).toBe(1);
    expect(pool.stats().idle).toBe(4);
  });

  it('backs off after failed connects: 100 ms doubling to a 2 s cap (jitter pinned)', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5); // jitter factor 0.75 + 0.5 / 2 = 1
    const refused = new Error('connect ECONNREFUSED 127.0.0.1:1');
    const { pool, driver, log } = makePool(
      { size: 1, maxOverflow: 0, maxConnecting: 1 },
      { connectError: refused },
    );
    const seen = watch(driver);
    const calls = Array.from({ length: 10 }, () => settle(pool.acquire()));
    await tick(7_200);
    expect(seen.starts).toEqual([0, 100, 300, 700, 1500, 3100, 5100, 7100]);
    // each failure is reported to the caller that waited longest, wrapped in a ConnectError
    const rejected = calls.filter((c) => c.state === 'rejected');
    expect(rejected).toHaveLength(8);
    for (const r of rejected) {
      expect(r.error).toBeInstanceOf(ConnectError);
      expect((r.error as ConnectError).cause).toBe(refused);
    }
    expect(log.of('connectFailed')).toHaveLength(8);
    expect(log.of('checkoutFailed').every((e) => e.reason === 'connectError')).toBe(true);

    // the server comes back: the next attempt succeeds and resets the backoff
    driver.controls.connectError = undefined;
    await tick(2000);
    expect(calls.filter((c) => c.state === 'fulfilled')).toHaveLength(1);
    pool.release(calls.find((c) => c.state === 'fulfilled')!.value!);
    await tick();
    expect(calls.every((c) => c.state !== 'pending')).toBe(true);
  });

  it('backs off once per round, not once per failed connect: maxConnecting 2 still doubles 100 ms to 2 s', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5); // jitter factor 1
    const { pool, driver, log } = makePool(
      { size: 2, minIdle: 2, maxConnecting: 2 },
      { connectError: new Error('connect ECONNREFUSED 127.0.0.1:1') },
    );
    const seen = watch(driver);
    await tick(); // the constructor starts filling minIdle on a microtask
    await tick(5_200);
    // each round opens maxConnecting connects; both fail, and the round backs off once,
    // letting the next round through as soon as the backoff ends
    expect(seen.starts).toEqual([0, 0, 100, 100, 300, 300, 700, 700, 1500, 1500, 3100, 3100, 5100, 5100]);
    expect(log.of('connectFailed')).toHaveLength(14);
    // the server comes back: the next round succeeds
    driver.controls.connectError = undefined;
    await tick(2000);
    expect(pool.stats()).toMatchObject({ idle: 2, connecting: 0 });
  });

  it('a success resets the backoff to 100 ms', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const { pool, driver } = makePool({ size: 3, maxConnecting: 1 });
    const seen = watch(driver);
    driver.controls.connectError = (n: number) => (n <= 3 || n === 5 ? new Error(`fail ${n}`) : undefined);
    const calls = Array.from({ length: 6 }, () => settle(pool.acquire()));
    await tick(2000);
    // 0 fail, 100 fail, 300 fail, 700 ok (reset), then the next connect is immediate and fails, then 100 later
    expect(seen.starts.slice(0, 6)).toEqual([0, 100, 300, 700, 700, 800]);
    expect(calls.filter((c) => c.state === 'rejected')).toHaveLength(4);
    for (const c of calls) if (c.state === 'fulfilled') pool.release(c.value);
  });

  it('the backoff is jittered between 0.75x and 1.25x', async () => {
    for (const [r, expected] of [
      [0, 75],
      [0.999, 124],
    ] as const) {
      vi.spyOn(Math, 'random').mockReturnValue(r);
      const { pool, driver } = makePool({ size: 1, maxConnecting: 1 }, { connectError: new Error('no') });
      const seen = watch(driver);
      const calls = [settle(pool.acquire()), settle(pool.acquire())];
      await tick(expected - 1);
      expect(seen.starts).toEqual([0]);
      await tick(2);
      expect(seen.starts).toHaveLength(2);
      expect(calls[0].state).toBe('rejected');
      await pool.close({ timeoutMs: 0 });
    }
  });

  it('a connect that hangs is abandoned after connectTimeoutMs and counts as a failure', async () => {
    const { pool, driver, log } = makePool({ size: 1, connectTimeoutMs: 1000 }, { connectHang: true });
    const call = settle(pool.acquire());
    await tick(999);
    expect(call.state).toBe('pending');
    await tick(1);
    expect(call.state).toBe('rejected');
    expect(call.error).toBeInstanceOf(ConnectError);
    expect((call.error as Error).message).toContain('timed out after 1000 ms');
    expect(driver.contexts[0].signal.aborted).toBe(true);
    expect(driver.contexts[0].timeoutMs).toBe(1000);
    expect(log.of('connectFailed')[0].durationMs).toBe(1000);
    expect(pool.stats().connecting).toBe(0);
  });
});
