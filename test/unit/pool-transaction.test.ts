import { describe, expect, it, vi } from 'vitest';
import type { BeginOptions } from '../../src/pool/driver.js';
import { PoolConfigError, PoolTimeoutError } from '../../src/pool/errors.js';
import { DisconnectError, type FakeConnection, RetryableError } from '../support/fake-driver.js';
import { makePool, rejection, settle, tick, useFakeClock } from '../support/pool-harness.js';

useFakeClock();

describe('transaction() on the fake driver', () => {
  it('BEGIN, run, COMMIT, release; returns the result', async () => {
    const { pool, log } = makePool({});
    let seen: FakeConnection | undefined;
    const result = await pool.transaction(async (tx) => {
      seen = tx;
      tx.log.push('UPDATE');
      return 42;
    });
    expect(result).toBe(42);
    expect(seen!.log).toEqual(['BEGIN', 'UPDATE', 'COMMIT']);
    expect(pool.stats()).toMatchObject({ used: 0, idle: 1 });
    expect(log.names()).toEqual(['connect', 'checkout', 'checkin']);
  });

  it('ROLLBACK and rethrow on error; the connection goes back to the pool', async () => {
    const { pool, log } = makePool({});
    const boom = new Error('constraint violated');
    let seen: FakeConnection | undefined;
    const error = await rejection(
      pool.transaction(async (tx) => {
        seen = tx;
        throw boom;
      }),
    );
    expect(error).toBe(boom);
    expect(seen!.log).toEqual(['BEGIN', 'ROLLBACK']);
    expect(seen!.closed).toBe(false);
    expect(pool.stats()).toMatchObject({ used: 0, idle: 1, generation: 0 });
    expect(log.of('invalidate')).toHaveLength(0);
  });

  it('a failing COMMIT rolls back and rethrows the commit error', async () => {
    const { pool, driver } = makePool({});
    const commitError = new Error('could not serialize');
    driver.commit = async () => {
      throw commitError;
    };
    let seen: FakeConnection | undefined;
    expect(
      await rejection(
        pool.transaction(async (tx) => {
          seen = tx;
        }),
      ),
    ).toBe(commitError);
    expect(seen!.log).toEqual(['BEGIN', 'ROLLBACK']);
  });

  it('passes isolation and readOnly to BEGIN', async () => {
    const { pool, driver } = makePool({});
    const begins: BeginOptions[] = [];
    const begin = driver.begin.bind(driver);
    driver.begin = (conn, options) => {
      begins.push(options);
      return begin(conn, options);
    };
    let seen: FakeConnection | undefined;
    await pool.transaction(
      async (tx) => {
        seen = tx;
      },
      { isolation: 'serializable', readOnly: true },
    );
    expect(begins).toEqual([{ isolation: 'serializable', readOnly: true }]);
    expect(seen!.log).toEqual(['BEGIN serializable READ ONLY', 'COMMIT']);
    await pool.transaction(async () => undefined, { isolation: 'repeatable read' });
    expect(seen!.log.at(-2)).toBe('BEGIN repeatable read');
  });

  it('the core refuses an unknown isolation level before it acquires (one table for every driver)', async () => {
    const { pool, driver, log } = makePool({});
    const fn = vi.fn(async () => 1);
    for (const bad of ['serializable; drop table x', 'toString', 'SERIALIZABLE']) {
      const error = await pool.transaction(fn, { isolation: bad as never }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PoolConfigError);
      expect((error as Error).message).toContain(
        'expected one of read uncommitted, read committed, repeatable read, serializable',
      );
    }
    expect(fn).not.toHaveBeenCalled();
    expect(driver.connects).toBe(0);
    expect(log.of('checkout')).toHaveLength(0);
  });

  it('retries the whole function on a RetryableError, with backoff', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5); // backoff = 10 ms * 2^(n-1) * 0.5
    const { pool } = makePool({});
    const starts: number[] = [];
    const t0 = performance.now();
    const tx = settle(
      pool.transaction(
        async (conn) => {
          starts.push(performance.now() - t0);
          if (starts.length < 4) throw new RetryableError(`serialization failure ${starts.length}`);
          conn.log.push('WORK');
          return 'done';
        },
        { retries: 5 },
      ),
    );
    await tick(4);
    expect(starts).toEqual([0]);
    await tick(1);
    expect(starts).toEqual([0, 5]);
    await tick(10);
    expect(starts).toEqual([0, 5, 15]);
    await tick(20);
    expect(starts).toEqual([0, 5, 15, 35]);
    expect(tx.state).toBe('fulfilled');
    expect(tx.value).toBe('done');
    const conn = (await pool.acquire()) as FakeConnection;
    expect(conn.log).toEqual([
      'BEGIN',
      'ROLLBACK',
      'BEGIN',
      'ROLLBACK',
      'BEGIN',
      'ROLLBACK',
      'BEGIN',
      'WORK',
      'COMMIT',
    ]);
    pool.release(conn);
  });

  it('the backoff grows to a 1 s cap', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5); // full jitter: half of 10 ms * 2^(n-1), capped at 1 s
    const { pool } = makePool({});
    const starts: number[] = [];
    const t0 = performance.now();
    const tx = settle(
      pool.transaction(
        async () => {
          starts.push(performance.now() - t0);
          throw new RetryableError('deadlock detected');
        },
        { retries: 9 },
      ),
    );
    await tick(10_000);
    expect(tx.state).toBe('rejected');
    const gaps = starts.slice(1).map((s, i) => s - starts[i]);
    expect(gaps).toEqual([5, 10, 20, 40, 80, 160, 320, 500, 500]);
  });

  it('does not retry other errors', async () => {
    const { pool } = makePool({});
    let attempts = 0;
    const boom = new Error('unique violation');
    expect(
      await rejection(
        pool.transaction(
          async () => {
            attempts++;
            throw boom;
          },
          { retries: 3 },
        ),
      ),
    ).toBe(boom);
    expect(attempts).toBe(1);
  });

  it('does not retry by default (retries 0)', async () => {
    const { pool } = makePool({});
    let attempts = 0;
    await rejection(
      pool.transaction(async () => {
        attempts++;
        throw new RetryableError('serialization failure');
      }),
    );
    expect(attempts).toBe(1);
  });

  it('rethrows the last error when retries are exhausted', async () => {
    const { pool } = makePool({});
    const errors: Error[] = [];
    const tx = settle(
      pool.transaction(
        async () => {
          const e = new RetryableError(`attempt ${errors.length + 1}`);
          errors.push(e);
          throw e;
        },
        { retries: 2 },
      ),
    );
    await tick(1000);
    expect(errors).toHaveLength(3);
    expect(tx.error).toBe(errors[2]);
  });

  it('an isRetryable that throws means no retry', async () => {
    const { pool, driver } = makePool({});
    driver.isRetryable = () => {
      throw new Error('driver bug');
    };
    let attempts = 0;
    await rejection(
      pool.transaction(
        async () => {
          attempts++;
          throw new RetryableError('x');
        },
        { retries: 3 },
      ),
    );
    expect(attempts).toBe(1);
  });

  it('a failing ROLLBACK invalidates the connection and rethrows the original error', async () => {
    const { pool, driver, log } = makePool({});
    const rollbackError = new Error('rollback failed');
    driver.rollback = async () => {
      throw rollbackError;
    };
    const boom = new Error('original');
    let seen: FakeConnection | undefined;
    expect(
      await rejection(
        pool.transaction(async (tx) => {
          seen = tx;
          throw boom;
        }),
      ),
    ).toBe(boom);
    expect(seen!.closed).toBe(true);
    expect(log.of('invalidate')).toEqual([{ connectionId: seen!.id, error: rollbackError }]);
    expect(log.closeReasons()).toEqual(['invalidated']);
    expect(pool.stats()).toMatchObject({ used: 0, idle: 0, size: 0 });
    expect(log.of('checkin')).toHaveLength(1);
  });

  it('a failing ROLLBACK while close() waits lets close finish at once', async () => {
    const { pool, driver } = makePool({});
    driver.rollback = async () => {
      throw new Error('rollback failed');
    };
    let fail!: (e: Error) => void;
    const tx = settle(
      pool.transaction(
        () =>
          new Promise((_, reject) => {
            fail = reject;
          }),
      ),
    );
    await tick();
    const closing = settle(pool.close({ timeoutMs: 10_000 }));
    await tick();
    expect(closing.state).toBe('pending');
    fail(new Error('boom'));
    await tick();
    expect(tx.state).toBe('rejected');
    expect(closing.state).toBe('fulfilled');
  });

  it('a disconnect inside the transaction skips ROLLBACK, invalidates and clears', async () => {
    const { pool, log } = makePool({});
    const lost = new DisconnectError('terminating connection due to administrator command');
    let seen: FakeConnection | undefined;
    expect(
      await rejection(
        pool.transaction(async (tx) => {
          seen = tx;
          throw lost;
        }),
      ),
    ).toBe(lost);
    expect(seen!.log).toEqual(['BEGIN']);
    expect(log.closeReasons()).toEqual(['invalidated']);
    expect(log.of('clear')).toEqual([{ generation: 1 }]);
  });

  it('a disconnect is retried when retries allow it only if the driver calls it retryable', async () => {
    const { pool } = makePool({});
    let attempts = 0;
    await rejection(
      pool.transaction(
        async () => {
          attempts++;
          throw new DisconnectError('gone');
        },
        { retries: 2 },
      ),
    );
    expect(attempts).toBe(1);
  });

  it('uses driver.runTransaction when the driver has it', async () => {
    const { pool, driver } = makePool({});
    const calls: BeginOptions[] = [];
    (driver as { runTransaction?: unknown }).runTransaction = async <T>(
      conn: FakeConnection,
      options: BeginOptions,
      fn: (tx: FakeConnection) => Promise<T>,
    ): Promise<T> => {
      calls.push(options);
      conn.log.push('startTransaction');
      const result = await fn(conn);
      conn.log.push('commitTransaction');
      return result;
    };
    let seen: FakeConnection | undefined;
    const result = await pool.transaction(
      async (tx) => {
        seen = tx;
        return 'ok';
      },
      { readOnly: true },
    );
    expect(result).toBe('ok');
    expect(calls).toEqual([{ isolation: undefined, readOnly: true }]);
    expect(seen!.log).toEqual(['startTransaction', 'commitTransaction']);
  });

  it('acquire options: timeoutMs applies to getting the connection', async () => {
    const { pool } = makePool({ size: 1, maxOverflow: 0 });
    const held = await pool.acquire();
    let ran = false;
    const tx = settle(
      pool.transaction(
        async () => {
          ran = true;
        },
        { timeoutMs: 100 },
      ),
    );
    await tick(100);
    expect(tx.error).toBeInstanceOf(PoolTimeoutError);
    expect(ran).toBe(false);
    pool.release(held);
  });
});
