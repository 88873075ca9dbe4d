import { describe, expect, it } from 'vitest';
import type { FakeConnection } from '../support/fake-driver.js';
import { makePool, settle, tick, useFakeClock } from '../support/pool-harness.js';

useFakeClock();

type P = ReturnType<typeof makePool>['pool'];

function checkOutAndForgetInLeakyHandler(pool: P): Promise<FakeConnection> {
  return pool.acquire();
}

function waitBehindAndForgetInQueuedHandler(pool: P): Promise<FakeConnection> {
  return pool.acquire();
}

describe('leakTimeoutMs', () => {
  it("emits leak once per checkout with the acquirer's stack", async () => {
    const { pool, log } = makePool({ leakTimeoutMs: 1000, maxLifetimeMs: 0, idleTimeoutMs: 0 });
    const c = await checkOutAndForgetInLeakyHandler(pool);
    await tick(999);
    expect(log.of('leak')).toHaveLength(0);
    await tick(250); // the sweeper runs every leakTimeoutMs / 4
    const leaks = log.of('leak');
    expect(leaks).toHaveLength(1);
    expect(leaks[0].connectionId).toBe(c.id);
    expect(leaks[0].heldMs).toBeGreaterThanOrEqual(1000);
    expect(leaks[0].heldMs).toBeLessThan(1250);
    expect(leaks[0].stack).toContain('checkOutAndForgetInLeakyHandler');
    expect(leaks[0].stack).toContain('pool-leak.test.ts');
    expect(leaks[0].stack.startsWith('acquired at:\n')).toBe(true);
    // reported once, not on every sweep
    await tick(10_000);
    expect(log.of('leak')).toHaveLength(1);
    // a new checkout of the same connection may leak again
    pool.release(c);
    const again = await pool.acquire();
    await tick(1250);
    expect(log.of('leak')).toHaveLength(2);
    expect(log.of('leak')[1].stack).not.toContain('checkOutAndForgetInLeakyHandler');
    pool.release(again);
  });

  it('the stack is the one of the caller that waited, not of the one that released', async () => {
    const { pool, log } = makePool({ size: 1, maxOverflow: 0, leakTimeoutMs: 1000 });
    const held = await checkOutAndForgetInLeakyHandler(pool);
    const waiter = settle(waitBehindAndForgetInQueuedHandler(pool));
    await tick(500);
    pool.release(held);
    await tick();
    expect(waiter.state).toBe('fulfilled');
    await tick(1250);
    const [leak] = log.of('leak');
    expect(leak.stack).toContain('waitBehindAndForgetInQueuedHandler');
    expect(leak.stack).not.toContain('checkOutAndForgetInLeakyHandler');
    pool.release(waiter.value!);
  });

  it('a connection returned in time is not reported', async () => {
    const { pool, log } = makePool({ leakTimeoutMs: 1000 });
    for (let i = 0; i < 10; i++) {
      const c = await pool.acquire();
      await tick(900);
      pool.release(c);
    }
    await tick(5000);
    expect(log.of('leak')).toHaveLength(0);
  });

  it('leakTimeoutMs 0 (the default) never reports', async () => {
    const { pool, log } = makePool({});
    expect(pool.options.leakTimeoutMs).toBe(0);
    const c = await pool.acquire();
    await tick(24 * 3600_000);
    expect(log.of('leak')).toHaveLength(0);
    expect(c.closed).toBe(false);
    pool.release(c);
  });
});
