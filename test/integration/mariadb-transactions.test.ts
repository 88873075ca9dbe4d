/**
 * pool.transaction over the mariadb driver: commit, rollback, isolation levels,
 * read-only transactions, a real deadlock (1213) retried, and check-in rolling
 * back a transaction its user left open.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type MariadbConnection, mariadb } from '../../src/drivers/mariadb/index.js';
import { createPool, type Pool } from '../../src/index.js';
import type { IsolationLevel } from '../../src/pool/driver.js';
import { directContext } from '../support/mariadb-admin.js';
import { MARIADB_URL, serverAvailable } from '../support/servers.js';

const available = await serverAvailable('MariaDB', MARIADB_URL, 'MARIADB_URL');

type Level = 'READ UNCOMMITTED' | 'READ COMMITTED' | 'REPEATABLE READ' | 'SERIALIZABLE';

/**
 * Which isolation level a transaction really ran at, judged by behaviour (the
 * information_schema.innodb_trx view is cached for 100 ms and lies in quick tests):
 * a plain read taking a shared lock means SERIALIZABLE, a dirty read READ UNCOMMITTED, a non-repeatable read means READ COMMITTED, else REPEATABLE READ.
 */
async function observedLevel(
  run: <T>(fn: (tx: MariadbConnection) => Promise<T>) => Promise<T>,
  other: MariadbConnection,
  table: string,
): Promise<Level> {
  const locking = await run(async (tx) => {
    await tx.query(`SELECT v FROM ${table} WHERE id = 2`);
    const probe = await other
      .query(`SELECT v FROM ${table} WHERE id = 2 FOR UPDATE NOWAIT`)
      .catch((e: unknown) => e);
    return probe instanceof Error && (probe as { errno?: number }).errno === 1205;
  });
  if (locking) return 'SERIALIZABLE';
  const dirty = await run(async (tx) => {
    await other.query('START TRANSACTION');
    await other.query(`UPDATE ${table} SET v = v + 5 WHERE id = 1`);
    try {
      const [row] = await tx.query(`SELECT v FROM ${table} WHERE id = 1`);
      return Number(row.v) === 5;
    } finally {
      await other.query('ROLLBACK');
    }
  });
  if (dirty) return 'READ UNCOMMITTED';
  const nonRepeatable = await run(async (tx) => {
    const [before] = await tx.query(`SELECT v FROM ${table} WHERE id = 2`);
    await other.query(`UPDATE ${table} SET v = v + 1 WHERE id = 2`);
    const [after] = await tx.query(`SELECT v FROM ${table} WHERE id = 2`);
    await other.query(`UPDATE ${table} SET v = v - 1 WHERE id = 2`);
    return Number(before.v) !== Number(after.v);
  });
  return nonRepeatable ? 'READ COMMITTED' : 'REPEATABLE READ';
}

describe.skipIf(!available)('mariadb driver: transactions through the pool', () => {
  const table = `cistern_tx_${process.pid}`;
  let pool: Pool<MariadbConnection>;

  beforeAll(async () => {
    pool = createPool(mariadb(MARIADB_URL), { size: 2, maxOverflow: 0, telemetry: false });
    await pool.use((c) =>
      c.query(`CREATE OR REPLACE TABLE ${table} (id INT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB`),
    );
  });

  beforeEach(async () => {
    await pool.use(async (c) => {
      await c.query(`DELETE FROM ${table}`);
      await c.batch(`INSERT INTO ${table} (id, v) VALUES (?, ?)`, [
        [1, 0],
        [2, 0],
      ]);
    });
  });

  afterAll(async () => {
    await pool?.use((c) => c.query(`DROP TABLE IF EXISTS ${table}`));
    await pool?.close();
  });

  const rowValue = (id: number) =>
    pool.use(async (c) => Number((await c.query(`SELECT v FROM ${table} WHERE id = ?`, [id]))[0].v));

  it('commits', async () => {
    const result = await pool.transaction(async (tx) => {
      expect(tx.inTransaction).toBe(true);
      await tx.query(`UPDATE ${table} SET v = ? WHERE id = 1`, [7]);
      return 'done';
    });
    expect(result).toBe('done');
    expect(await rowValue(1)).toBe(7);
  });

  it('rolls back and rethrows when the function throws', async () => {
    const boom = new Error('boom');
    const error = await pool
      .transaction(async (tx) => {
        await tx.query(`UPDATE ${table} SET v = ? WHERE id = 1`, [9]);
        throw boom;
      })
      .catch((e: unknown) => e);
    expect(error).toBe(boom);
    expect(await rowValue(1)).toBe(0);
  });

  it('rolls back after a failing statement', async () => {
    const error = await pool
      .transaction(async (tx) => {
        await tx.query(`UPDATE ${table} SET v = ? WHERE id = 2`, [5]);
        await tx.query(`INSERT INTO ${table} (id, v) VALUES (?, ?)`, [1, 1]); // duplicate key
      })
      .catch((e: unknown) => e);
    expect((error as { errno?: number }).errno).toBe(1062);
    expect(pool.driver.isDisconnect(error)).toBe(false);
    expect(await rowValue(2)).toBe(0);
  });

  it.each<[IsolationLevel, Level]>([
    ['read uncommitted', 'READ UNCOMMITTED'],
    ['read committed', 'READ COMMITTED'],
    ['repeatable read', 'REPEATABLE READ'],
    ['serializable', 'SERIALIZABLE'],
  ])('isolation %s applies to that transaction only', async (isolation, expected) => {
    const single = createPool(mariadb(MARIADB_URL), { size: 1, maxOverflow: 0, telemetry: false });
    const driver = mariadb(MARIADB_URL);
    const other = await driver.connect(directContext());
    try {
      const level = await observedLevel((fn) => single.transaction(fn, { isolation }), other, table);
      expect(level).toBe(expected);
      // same session, next transaction without options: the server default again
      const after = await observedLevel((fn) => single.transaction(fn), other, table);
      expect(after).toBe('REPEATABLE READ');
    } finally {
      await driver.close(other);
      await single.close();
    }
  });

  it('readOnly starts a read-only transaction: reads work, writes fail with 1792', async () => {
    const write = await pool.transaction(
      async (tx) => {
        await tx.query(`SELECT v FROM ${table} WHERE id = 1`);
        return tx.query(`UPDATE ${table} SET v = 3 WHERE id = 1`).catch((e: unknown) => e);
      },
      { readOnly: true },
    );
    expect((write as { errno?: number }).errno).toBe(1792);
    expect(await rowValue(1)).toBe(0);
    // the next transaction on the same connections may write again
    await pool.transaction(async (tx) => tx.query(`UPDATE ${table} SET v = 4 WHERE id = 1`));
    expect(await rowValue(1)).toBe(4);
  });

  it('readOnly together with an isolation level', async () => {
    const driver = mariadb(MARIADB_URL);
    const other = await driver.connect(directContext());
    try {
      const level = await observedLevel(
        (fn) => pool.transaction(fn, { readOnly: true, isolation: 'read committed' }),
        other,
        table,
      );
      expect(level).toBe('READ COMMITTED');
      const write = await pool.transaction(
        async (tx) => tx.query(`UPDATE ${table} SET v = 3 WHERE id = 1`).catch((e: unknown) => e),
        { readOnly: true, isolation: 'serializable' },
      );
      expect((write as { errno?: number }).errno).toBe(1792);
    } finally {
      await driver.close(other);
    }
  });

  it('retries a real deadlock (1213) provoked by two transactions locking rows in opposite order', async () => {
    let resolveA!: () => void;
    let resolveB!: () => void;
    const aLocked = new Promise<void>((r) => (resolveA = r));
    const bLocked = new Promise<void>((r) => (resolveB = r));
    const attempts = { a: 0, b: 0 };
    const errors: unknown[] = [];
    const a = pool.transaction(
      async (tx) => {
        attempts.a++;
        await tx.query(`UPDATE ${table} SET v = v + 1 WHERE id = 1`);
        if (attempts.a === 1) {
          resolveA();
          await bLocked;
        }
        await tx.query(`UPDATE ${table} SET v = v + 10 WHERE id = 2`).catch((e: unknown) => {
          errors.push(e);
          throw e;
        });
      },
      { retries: 3 },
    );
    const b = pool.transaction(
      async (tx) => {
        attempts.b++;
        await tx.query(`UPDATE ${table} SET v = v + 100 WHERE id = 2`);
        if (attempts.b === 1) {
          resolveB();
          await aLocked;
        }
        await tx.query(`UPDATE ${table} SET v = v + 1000 WHERE id = 1`).catch((e: unknown) => {
          errors.push(e);
          throw e;
        });
      },
      { retries: 3 },
    );
    await Promise.all([a, b]);
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect((errors[0] as { errno?: number }).errno).toBe(1213);
    expect(pool.driver.isRetryable?.(errors[0])).toBe(true);
    expect(attempts.a + attempts.b).toBeGreaterThanOrEqual(3);
    // each transaction committed exactly once
    expect(await rowValue(1)).toBe(1001);
    expect(await rowValue(2)).toBe(110);
  });

  it('without retries the deadlock reaches the caller', async () => {
    let resolveA!: () => void;
    let resolveB!: () => void;
    const aLocked = new Promise<void>((r) => (resolveA = r));
    const bLocked = new Promise<void>((r) => (resolveB = r));
    const outcome = await Promise.allSettled([
      pool.transaction(async (tx) => {
        await tx.query(`UPDATE ${table} SET v = v + 1 WHERE id = 1`);
        resolveA();
        await bLocked;
        await tx.query(`UPDATE ${table} SET v = v + 10 WHERE id = 2`);
      }),
      pool.transaction(async (tx) => {
        await tx.query(`UPDATE ${table} SET v = v + 100 WHERE id = 2`);
        resolveB();
        await aLocked;
        await tx.query(`UPDATE ${table} SET v = v + 1000 WHERE id = 1`);
      }),
    ]);
    const rejected = outcome.filter((o) => o.status === 'rejected');
    expect(rejected).toHaveLength(1);
    expect(((rejected[0] as PromiseRejectedResult).reason as { errno?: number }).errno).toBe(1213);
    const total = (await rowValue(1)) + (await rowValue(2));
    expect([11, 1100]).toContain(total);
  });

  it('check-in rolls back a transaction its user left open', async () => {
    const single = createPool(mariadb(MARIADB_URL), { size: 1, maxOverflow: 0, telemetry: false });
    try {
      const first = await single.use(async (c) => {
        await c.query('START TRANSACTION');
        await c.query(`UPDATE ${table} SET v = 99 WHERE id = 1`);
        expect(c.inTransaction).toBe(true);
        return c.threadId;
      });
      const [same, open] = await single.use(async (c) => [c.threadId, c.inTransaction] as const);
      expect(same).toBe(first);
      expect(open).toBe(false);
      expect(await rowValue(1)).toBe(0);
    } finally {
      await single.close();
    }
  });
  describe('check-in after a failed statement', () => {
    const rollbacks = async (c: MariadbConnection) =>
      Number((await c.query("SHOW SESSION STATUS LIKE 'Com_rollback'"))[0].Value);
    const failing = (c: MariadbConnection) =>
      c.query(`SELECT no_such_column FROM ${table}`).then(
        () => undefined,
        (error: unknown) => error,
      );

    it('outside a transaction (autocommit): no ROLLBACK is sent at check-in', async () => {
      const single = createPool(mariadb(MARIADB_URL), { size: 1, maxOverflow: 0, telemetry: false });
      try {
        const [thread, before, open] = await single.use(async (c) => {
          const n = await rollbacks(c);
          expect(((await failing(c)) as { errno?: number }).errno).toBe(1054);
          // the connector's own flag says "in transaction" after any error reply
          expect((c.raw.info!.status & 1) !== 0).toBe(true);
          return [c.threadId, n, c.inTransaction] as const;
        });
        expect(open).toBe(false);
        const [same, after] = await single.use(async (c) => [c.threadId, await rollbacks(c)] as const);
        expect(same).toBe(thread);
        expect(after).toBe(before);
      } finally {
        await single.close();
      }
    });

    it('inside a transaction: check-in still rolls it back', async () => {
      const single = createPool(mariadb(MARIADB_URL), { size: 1, maxOverflow: 0, telemetry: false });
      try {
        const [thread, before, open] = await single.use(async (c) => {
          const n = await rollbacks(c);
          await c.query('START TRANSACTION');
          await c.query(`UPDATE ${table} SET v = 7 WHERE id = 1`);
          await failing(c);
          return [c.threadId, n, c.inTransaction] as const;
        });
        expect(open).toBe(true);
        const [same, after] = await single.use(async (c) => [c.threadId, await rollbacks(c)] as const);
        expect(same).toBe(thread);
        expect(after).toBe(before + 1);
        expect(await rowValue(1)).toBe(0);
      } finally {
        await single.close();
      }
    });

    it('with autocommit off: check-in rolls back (the failed statement may have opened one)', async () => {
      const single = createPool(mariadb(MARIADB_URL), { size: 1, maxOverflow: 0, telemetry: false });
      try {
        const [before, open] = await single.use(async (c) => {
          const n = await rollbacks(c);
          await c.query('SET autocommit = 0');
          await c.query(`UPDATE ${table} SET v = 8 WHERE id = 2`);
          await failing(c);
          return [n, c.inTransaction] as const;
        });
        expect(open).toBe(true);
        const after = await single.use(async (c) => {
          await c.query('SET autocommit = 1');
          return rollbacks(c);
        });
        expect(after).toBe(before + 1);
        expect(await rowValue(2)).toBe(0);
      } finally {
        await single.close();
      }
    });
  });
});
