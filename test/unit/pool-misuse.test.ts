import { describe, expect, it } from 'vitest';
import { PoolError, PoolMisuseError } from '../../src/pool/errors.js';
import { FakeConnection } from '../support/fake-driver.js';
import { makePool, settle, tick, useFakeClock } from '../support/pool-harness.js';

useFakeClock();

function misuse(fn: () => void): PoolMisuseError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PoolMisuseError);
    expect(error).toBeInstanceOf(PoolError);
    expect((error as PoolMisuseError).code).toBe('POOL_MISUSE');
    expect((error as PoolMisuseError).name).toBe('PoolMisuseError');
    return error as PoolMisuseError;
  }
  throw new Error('expected a PoolMisuseError');
}

/** The pool still works: every connection can be checked out once and only once. */
async function expectIntact(pool: ReturnType<typeof makePool>['pool'], n: number) {
  const conns = await Promise.all(Array.from({ length: n }, () => pool.acquire()));
  expect(new Set(conns).size).toBe(n);
  for (const c of conns) pool.release(c);
  expect(pool.stats()).toMatchObject({ used: 0, pending: 0 });
}

describe('misuse throws PoolMisuseError and leaves the pool intact', () => {
  it('a double release', async () => {
    const { pool, log } = makePool({ size: 2, maxOverflow: 0 });
    const c = await pool.acquire();
    pool.release(c);
    const error = misuse(() => pool.release(c));
    expect(error.message).toContain(`connection ${c.id}`);
    expect(error.message).toContain('released twice');
    expect(pool.stats()).toMatchObject({ used: 0, idle: 1 });
    expect(log.of('checkin')).toHaveLength(1);
    await expectIntact(pool, 2);
  });

  it('a second release after the next holder returned it', async () => {
    const { pool } = makePool({ size: 1, maxOverflow: 0 });
    const c = await pool.acquire();
    pool.release(c);
    const again = await pool.acquire(); // someone else has it now
    expect(again).toBe(c);
    // (a stale release by the first holder now would check in the second holder's connection: the
    // pool cannot tell two holders of the same object apart; use() guards against that itself)
    pool.release(again);
    misuse(() => pool.release(c));
    await expectIntact(pool, 1);
  });

  it('a connection of another pool, or a foreign object', async () => {
    const one = makePool({});
    const two = makePool({});
    const c = await one.pool.acquire();
    const error = misuse(() => two.pool.release(c));
    expect(error.message).toContain('not checked out from pool');
    misuse(() => two.pool.release(new FakeConnection(42)));
    misuse(() => two.pool.invalidate(c));
    misuse(() => one.pool.release({} as FakeConnection));
    expect(one.pool.stats().used).toBe(1);
    one.pool.release(c);
    await expectIntact(one.pool, 3);
    await expectIntact(two.pool, 3);
  });

  it('release after invalidate', async () => {
    const { pool } = makePool({});
    const c = await pool.acquire();
    pool.invalidate(c);
    misuse(() => pool.release(c));
    expect(pool.stats()).toMatchObject({ used: 0, size: 0 });
    await expectIntact(pool, 2);
  });

  it('invalidate twice, and invalidate after release', async () => {
    const { pool, log } = makePool({});
    const c = await pool.acquire();
    pool.invalidate(c, new Error('first'));
    misuse(() => pool.invalidate(c, new Error('second')));
    expect(log.of('invalidate')).toHaveLength(1);
    const d = await pool.acquire();
    pool.release(d);
    misuse(() => pool.invalidate(d));
    expect(d.closed).toBe(false);
    expect(pool.stats()).toMatchObject({ idle: 1, used: 0 });
    await expectIntact(pool, 2);
  });

  it('release of an idle connection never puts it twice in the idle list', async () => {
    const { pool } = makePool({ size: 3 });
    const c = await pool.acquire();
    pool.release(c);
    for (let i = 0; i < 5; i++) misuse(() => pool.release(c));
    expect(pool.stats().idle).toBe(1);
    const a = await pool.acquire();
    const b = settle(pool.acquire());
    await tick();
    expect(b.value).not.toBe(a);
  });

  it('use() and transaction() with a non-function', async () => {
    const { pool } = makePool({});
    await expect(pool.use(42 as never)).rejects.toThrow(TypeError);
    await expect(pool.transaction(null as never)).rejects.toThrow(TypeError);
    await expectIntact(pool, 1);
  });

  it('transaction() on a driver without begin/commit/rollback is a misuse', async () => {
    const { pool, driver } = makePool({});
    (driver as { begin?: unknown }).begin = undefined;
    const error = await pool.transaction(async () => 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PoolMisuseError);
    expect((error as Error).message).toContain("'fake' driver does not support transactions");
    expect(pool.stats().size).toBe(0);
  });
});
