/** drizzle-orm `drizzle-orm/node-postgres` on the cistern pg.Pool face: insert, select, a transaction, a nested savepoint rolled back. */
import { eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { integer, pgTable, text } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminSql, PG_URL } from '../support/postgres.js';
import { serverAvailable } from '../support/servers.js';
import { expectOnlyCisternBackends, faceUnderTest } from './pg-face-tools.js';

const up = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');
// one table per process: the Node 24 and Node 20 suites run side by side on one server
const TABLE = `pgd_drizzle_${process.pid}`;
const items = pgTable(TABLE, { id: integer('id').primaryKey(), name: text('name').notNull() });

describe.skipIf(!up)('drizzle node-postgres over cistern/pg Pool', () => {
  const admin = adminSql();
  const face = faceUnderTest('pgd-drizzle');
  beforeAll(async () => {
    await face.pool.query(`drop table if exists ${TABLE}`);
    await face.pool.query(`create table ${TABLE} (id int primary key, name text not null)`);
  });
  afterAll(async () => {
    await face.pool.query(`drop table if exists ${TABLE}`).catch(() => {});
    await face.pool.end();
    await admin.end({ timeout: 1 });
  });

  it('inserts, selects, commits a transaction and rolls back a nested savepoint', async () => {
    const db = drizzle({ client: face.pool as never });
    await db.insert(items).values({ id: 1, name: 'one' });
    expect(await db.select().from(items)).toEqual([{ id: 1, name: 'one' }]);

    await db.transaction(async (tx) => {
      await tx.insert(items).values({ id: 2, name: 'two' });
      await tx
        .transaction(async (inner) => {
          await inner.insert(items).values({ id: 3, name: 'three' });
          inner.rollback();
        })
        .catch(() => {});
      await tx.update(items).set({ name: 'uno' }).where(eq(items.id, 1));
    });
    const rows = await db.select().from(items).orderBy(items.id);
    expect(rows).toEqual([
      { id: 1, name: 'uno' },
      { id: 2, name: 'two' },
    ]);
    await expectOnlyCisternBackends(admin, face);
  });
});
