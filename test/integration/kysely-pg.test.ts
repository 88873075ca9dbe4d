/** kysely's stock `PostgresDialect({ pool })` on the cistern pg.Pool face. */
import { Kysely, PostgresDialect, sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { adminSql, PG_URL } from '../support/postgres.js';
import { serverAvailable } from '../support/servers.js';
import { expectOnlyCisternBackends, faceUnderTest } from './pg-face-tools.js';

const up = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');

// one table per process: the Node 24 and Node 20 suites run side by side on one server
const TABLE = `pgd_kysely_${process.pid}` as 'pgd_kysely';
interface Db {
  pgd_kysely: { id: number; name: string };
}

describe.skipIf(!up)('kysely PostgresDialect over cistern/pg Pool', () => {
  const admin = adminSql();
  const face = faceUnderTest('pgd-kysely');
  const db = new Kysely<Db>({ dialect: new PostgresDialect({ pool: face.pool as never }) });
  afterAll(async () => {
    await sql`drop table if exists ${sql.table(TABLE)}`.execute(db).catch(() => {});
    await db.destroy(); // kysely ends the pool it was given
    expect(face.pool.ended).toBe(true);
    await admin.end({ timeout: 1 });
  });

  it('creates, inserts, selects, and rolls a transaction back', async () => {
    await sql`drop table if exists ${sql.table(TABLE)}`.execute(db);
    await sql`create table ${sql.table(TABLE)} (id int primary key, name text not null)`.execute(db);
    await db.insertInto(TABLE).values({ id: 1, name: 'one' }).execute();
    await db
      .transaction()
      .execute(async (trx) => {
        await trx.insertInto(TABLE).values({ id: 2, name: 'two' }).execute();
        throw new Error('pgd: roll back');
      })
      .catch(() => {});
    const rows = await db.selectFrom(TABLE).selectAll().orderBy('id').execute();
    expect(rows).toEqual([{ id: 1, name: 'one' }]);
    await expectOnlyCisternBackends(admin, face);
  });
});
