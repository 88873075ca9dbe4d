/**
 * @prisma/adapter-mariadb on mariadbPool(pool), driven through the adapter API (no Prisma
 * engine can be downloaded here): queryRaw, executeRaw, transactions, errors.
 */
import { PrismaMariaDb } from '@prisma/adapter-mariadb';
import type { ArgType } from '@prisma/driver-adapter-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MariadbConnection, mariadb, mariadbPool } from '../../src/drivers/mariadb/index.js';
import { createPool, type Pool } from '../../src/index.js';
import { MARIADB_URL, serverAvailable } from '../support/servers.js';

const up = await serverAvailable('MariaDB', MARIADB_URL, 'MARIADB_URL');
const TABLE = `face_prisma_${process.pid}`;
const INT: ArgType = { scalarType: 'int', arity: 'scalar' };
const TEXT: ArgType = { scalarType: 'string', arity: 'scalar' };

async function checkedIn(pool: Pool<any>): Promise<void> {
  // a check-in after a failed command may run the driver's asynchronous ROLLBACK first
  for (let i = 0; i < 100 && pool.stats().used !== 0; i++) await new Promise((r) => setTimeout(r, 10));
  expect(pool.stats().used).toBe(0);
}

describe.skipIf(!up)('@prisma/adapter-mariadb on mariadbPool', () => {
  let pool: Pool<MariadbConnection>;
  let adapter: Awaited<ReturnType<PrismaMariaDb['connect']>>;
  const threadIds = new Set<number>();
  let checkouts = 0;

  beforeAll(async () => {
    pool = createPool(mariadb(MARIADB_URL), { telemetry: false, size: 2, maxOverflow: 0 });
    pool.on('checkout', () => checkouts++);
    await pool.use((c) => c.query(`CREATE OR REPLACE TABLE ${TABLE} (id INT PRIMARY KEY, name VARCHAR(50))`));
    await Promise.all(
      Array.from({ length: 2 }, () =>
        pool.use(async (c) => {
          threadIds.add(c.threadId);
          await new Promise((r) => setTimeout(r, 30));
        }),
      ),
    );
    adapter = await new PrismaMariaDb(mariadbPool(pool) as never, { database: 'test' }).connect();
  });
  afterAll(async () => {
    await adapter?.dispose(); // disposeExternalPool is false: the pool stays open
    expect(pool.closed).toBe(false);
    await pool?.use((c) => c.query(`DROP TABLE IF EXISTS ${TABLE}`));
    await pool?.close();
  });

  it('executeRaw and queryRaw run on pooled connections', async () => {
    const before = checkouts;
    const inserted = await adapter.executeRaw({
      sql: `INSERT INTO ${TABLE} (id, name) VALUES (?, ?), (?, ?)`,
      args: [1, 'one', 2, 'two'],
      argTypes: [INT, TEXT, INT, TEXT],
    });
    expect(inserted).toBe(2);
    const result = await adapter.queryRaw({
      sql: `SELECT id, name FROM ${TABLE} WHERE id >= ? ORDER BY id`,
      args: [1],
      argTypes: [INT],
    });
    expect(result.columnNames).toEqual(['id', 'name']);
    expect(result.rows).toEqual([
      [1, 'one'],
      [2, 'two'],
    ]);
    const session = await adapter.queryRaw({ sql: 'SELECT CONNECTION_ID()', args: [], argTypes: [] });
    expect(threadIds.has(Number(session.rows[0]![0]))).toBe(true);
    expect(checkouts - before).toBe(3);
    expect(pool.stats().used).toBe(0);
  });

  it('a transaction rolled back leaves no row and checks its connection in', async () => {
    const tx = await adapter.startTransaction();
    expect(pool.stats().used).toBe(1);
    await tx.executeRaw({
      sql: `INSERT INTO ${TABLE} (id, name) VALUES (?, ?)`,
      args: [10, 'gone'],
      argTypes: [INT, TEXT],
    });
    await tx.rollback();
    const rows = await adapter.queryRaw({
      sql: `SELECT id FROM ${TABLE} WHERE id = 10`,
      args: [],
      argTypes: [],
    });
    expect(rows.rows).toEqual([]);
    await checkedIn(pool);
  });

  it('a SERIALIZABLE transaction commits; its error listener is gone after release', async () => {
    const listeners = await pool.use(async (c) => c.raw.listenerCount('error'));
    const tx = await adapter.startTransaction('SERIALIZABLE');
    await tx.executeRaw({
      sql: `INSERT INTO ${TABLE} (id, name) VALUES (?, ?)`,
      args: [20, 'kept'],
      argTypes: [INT, TEXT],
    });
    const iso = await tx.queryRaw({
      sql: 'SELECT trx_isolation_level FROM information_schema.innodb_trx WHERE trx_mysql_thread_id = CONNECTION_ID()',
      args: [],
      argTypes: [],
    });
    expect(iso.rows).toEqual([['SERIALIZABLE']]);
    await tx.commit();
    const rows = await adapter.queryRaw({
      sql: `SELECT name FROM ${TABLE} WHERE id = 20`,
      args: [],
      argTypes: [],
    });
    expect(rows.rows).toEqual([['kept']]);
    await checkedIn(pool);
    const all = await Promise.all(
      Array.from({ length: 2 }, () =>
        pool.use(async (c) => {
          await new Promise((r) => setTimeout(r, 20));
          return c.raw.listenerCount('error');
        }),
      ),
    );
    for (const n of all) expect(n).toBe(listeners);
  });

  it('a query error surfaces as a DriverAdapterError and leaves nothing checked out', async () => {
    await expect(
      adapter.queryRaw({ sql: 'SELECT * FROM face_no_such_table', args: [], argTypes: [] }),
    ).rejects.toMatchObject({ name: 'DriverAdapterError', cause: { kind: 'TableDoesNotExist' } });
    await checkedIn(pool);
    const tx = await adapter.startTransaction();
    await expect(
      tx.executeRaw({ sql: 'INSERT INTO face_no_such_table VALUES (1)', args: [], argTypes: [] }),
    ).rejects.toThrow();
    await tx.rollback();
    await checkedIn(pool);
  });
});
