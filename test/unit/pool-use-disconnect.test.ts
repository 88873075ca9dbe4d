import { describe, expect, it } from 'vitest';
import { DisconnectError } from '../support/fake-driver.js';
import { makePool, rejection, tick, useFakeClock } from '../support/pool-harness.js';

useFakeClock();

describe('use()', () => {
  it('acquires, runs, releases and returns the result', async () => {
    const { pool, log } = makePool({});
    const result = await pool.use(async (c) => {
      expect(pool.stats().used).toBe(1);
      return `conn ${c.id}`;
    });
    expect(result).toBe('conn 1');
    expect(pool.stats()).toMatchObject({ used: 0, idle: 1 });
    expect(log.names()).toEqual(['connect', 'checkout', 'checkin']);
  });

  it('callers of use, transaction and acquire waiting in one line each get what they asked for', async () => {
    const { pool } = makePool({ size: 1, maxOverflow: 0 });
    const holder = await pool.acquire();
    const seen: string[] = [];
    // queued in this order behind the holder: use, acquire, transaction, use
    const first = pool.use(async (c) => {
      seen.push(`use ${c.id}`);
      return c.id;
    });
    const acquired = pool.acquire();
    const tx = pool.transaction(async (c) => {
      seen.push(`transaction ${c.id}`);
      return 'committed';
    });
    const last = pool.use((c) => {
      seen.push(`use ${c.id}`);
      return 'last';
    });
    expect(pool.stats().pending).toBe(4);
    pool.release(holder);
    expect(await first).toBe(1);
    // acquire resolves with the connection itself (the loans get the pool's record of it)
    const conn = await acquired;
    expect(conn).toBe(holder);
    expect(seen).toEqual(['use 1']);
    pool.release(conn);
    expect(await tx).toBe('committed');
    expect(await last).toBe('last');
    expect(seen).toEqual(['use 1', 'transaction 1', 'use 1']);
    expect(pool.stats()).toMatchObject({ used: 0, idle: 1, pending: 0 });
    // a double release of what acquire gave is still caught: the record was handed back once
    expect(() => pool.release(conn)).toThrow(/release/);
  });

  it('a plain error releases the connection and is rethrown', async () => {
    const { pool, log } = makePool({});
    const boom = new Error('syntax error at or near "selec"');
    expect(await rejection(pool.use(() => Promise.reject(boom)))).toBe(boom);
    expect(pool.stats()).toMatchObject({ used: 0, idle: 1, generation: 0 });
    expect(log.of('invalidate')).toHaveLength(0);
    // a synchronous throw too
    expect(
      await rejection(
        pool.use(() => {
          throw boom;
        }),
      ),
    ).toBe(boom);
    expect(pool.stats().idle).toBe(1);
  });

  it('a disconnect error invalidates the connection, clears the pool and is rethrown', async () => {
    const { pool, log } = makePool({ size: 3 });
    const [idle, held, victim] = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    pool.release(idle);
    pool.release(victim); // lifo: use() gets the victim
    const lost = new DisconnectError('Connection terminated unexpectedly');
    let used: { closed: boolean; id: number } | undefined;
    const error = await rejection(
      pool.use(async (c) => {
        used = c;
        throw lost;
      }),
    );
    expect(error).toBe(lost);
    expect(used).toBe(victim);
    expect(victim.closed).toBe(true);
    expect(log.of('invalidate')).toEqual([{ connectionId: victim.id, error: lost }]);
    expect(log.of('clear')).toEqual([{ generation: 1 }]);
    // the idle one closed now as stale, the held one at its check-in
    expect(idle.closed).toBe(true);
    expect(held.closed).toBe(false);
    pool.release(held);
    expect(held.closed).toBe(true);
    expect(log.of('close')).toEqual([
      { connectionId: victim.id, reason: 'invalidated' },
      { connectionId: idle.id, reason: 'stale' },
      { connectionId: held.id, reason: 'stale' },
    ]);
    expect(pool.stats()).toMatchObject({ size: 0, used: 0, idle: 0, generation: 1 });
    // check-in is still reported for the invalidated connection
    expect(log.of('checkin').map((e) => e.connectionId)).toContain(victim.id);
  });

  it('a connection killed during fn is invalidated even when fn fails with a plain error', async () => {
    const { pool, log } = makePool({});
    await rejection(
      pool.use(async (c) => {
        c.kill();
        throw new Error('query failed');
      }),
    );
    expect(log.closeReasons()[0]).toBe('invalidated');
    expect(pool.stats()).toMatchObject({ used: 0, idle: 0 });
  });

  it('a caller that released or invalidated inside fn is not released twice', async () => {
    const { pool, log } = makePool({});
    await pool.use(async (c) => {
      pool.release(c);
    });
    await pool.use(async (c) => {
      pool.invalidate(c, new Error('bad state'));
    });
    await rejection(
      pool.use(async (c) => {
        pool.invalidate(c);
        throw new DisconnectError('gone');
      }),
    );
    expect(log.of('checkin')).toHaveLength(3);
    expect(pool.stats()).toMatchObject({ used: 0 });
    await tick();
  });

  it('an isDisconnect that throws is treated as "not a disconnect"', async () => {
    const { pool, driver } = makePool({});
    driver.isDisconnect = () => {
      throw new Error('bug in driver');
    };
    const boom = new Error('x');
    expect(await rejection(pool.use(() => Promise.reject(boom)))).toBe(boom);
    expect(pool.stats()).toMatchObject({ idle: 1, generation: 0 });
  });

  it('fn must be a function', async () => {
    const { pool } = makePool({});
    await expect(pool.use(undefined as never)).rejects.toThrow(TypeError);
    expect(pool.stats()).toMatchObject({ used: 0, pending: 0, size: 0 });
  });
});

describe('use() and transaction() with an idle connection ready', () => {
  it('run fn at once, with the same events, and hand the connection back once', async () => {
    const { pool, log } = makePool({ size: 1, maxOverflow: 0 });
    const id = await pool.use(async (c) => c.id); // opens the connection; it is idle now
    const before = log.names().length;
    let ranAt: 'sync' | 'later' | undefined;
    let phase: 'sync' | 'later' = 'sync';
    const done = pool.use(async (c) => {
      ranAt = phase;
      return c.id;
    });
    phase = 'later';
    expect(ranAt).toBe('sync');
    expect(await done).toBe(id);
    expect(log.names().slice(before)).toEqual(['checkout', 'checkin']);
    expect(pool.stats()).toMatchObject({ used: 0, idle: 1 });
    // a second caller while the connection is held waits for it (the slow path)
    let second: number | undefined;
    const held = pool.use(async () => {
      await tick();
      return 'first';
    });
    const waited = pool.use(async (c) => {
      second = c.id;
    });
    expect(second).toBeUndefined();
    expect(await held).toBe('first');
    await waited;
    expect(second).toBe(id);
    expect(pool.stats()).toMatchObject({ used: 0, idle: 1, pending: 0 });
  });

  it('whatever fn returns or throws, the connection is handed back once, before the caller sees the outcome', async () => {
    const { pool, log } = makePool({ size: 1, maxOverflow: 0 });
    await pool.use(async () => {}); // the connection is idle now: each use below takes it at once
    class Sub<T> extends Promise<T> {}
    /** A thenable that is not a promise (what `fn` may return). */
    const thenable = (then: (ok: (v: number) => void, fail: (e: unknown) => void) => void) => ({ then });
    let calls = 0;
    const outcomes: Array<[string, (c: { id: number }) => unknown, unknown]> = [
      ['a value', () => 7, 7],
      ['a promise', async () => 8, 8],
      ['a Promise subclass', () => Sub.resolve(9), 9],
      ['a thenable', () => thenable((ok) => ok(10)), 10],
      [
        'a thenable that calls both callbacks',
        () =>
          thenable((ok, fail) => {
            ok(11);
            fail(new Error('late'));
            ok(12);
          }),
        11,
      ],
      [
        'a sync throw',
        () => {
          throw new Error('sync');
        },
        'sync',
      ],
      ['a rejection', () => Promise.reject(new Error('rejected')), 'rejected'],
      ['a rejecting thenable', () => thenable((_, fail) => fail(new Error('thenable'))), 'thenable'],
    ];
    for (const [what, fn, expected] of outcomes) {
      const before = log.names().length;
      const outcome = pool.use((c) => {
        calls++;
        return fn(c) as never;
      });
      const settled = await outcome.then(
        (value) => ({ value, stats: pool.stats() }),
        (error: Error) => ({ value: error.message, stats: pool.stats() }),
      );
      expect(settled.value, what).toBe(expected);
      expect(settled.stats, what).toMatchObject({ used: 0, idle: 1 });
      expect(log.names().slice(before), what).toEqual(['checkout', 'checkin']);
    }
    expect(calls).toBe(outcomes.length);
  });

  it('an acquire replaced on the instance still sees every checkout of use()', async () => {
    const { pool } = makePool({ size: 1 });
    await pool.use(async () => {});
    const real = pool.acquire.bind(pool);
    let calls = 0;
    pool.acquire = (o) => {
      calls++;
      return real(o);
    };
    await pool.use(async () => 'x');
    expect(calls).toBe(1);
  });
});
