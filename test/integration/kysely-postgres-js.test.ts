/** kysely-postgres-js (PostgresJSDialect) on poolSql(pool): its reserve()/release() become checkouts. */
import { type Generated, Kysely, sql as ksql } from 'kysely';
import { PostgresJSDialect } from 'kysely-postgres-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PgConnection, poolSql, postgres } from '../../src/drivers/postgres/index.js';
import { createPool, type Pool } from '../../src/index.js';
import { adminSql, appName, PG_URL } from '../support/postgres.js';
import { serverAvailable } from '../support/servers.js';

const up = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');
// a per-process name, typed as one literal for kysely
const TABLE = `face_kpgjs_${process.pid}` as 'face_kpgjs';

interface Db {
  face_kpgjs: { id: Generated<number>; name: string };
}

describe.skipIf(!up)('kysely-postgres-js on poolSql', () => {
  const admin = adminSql();
  const app = appName('kpgjs');
  let pool: Pool<PgConnection>;
  let db: Kysely<Db>;
  let checkouts = 0;

  beforeAll(async () => {
    pool = createPool(postgres(PG_URL, { applicationName: app }), {
      telemetry: false,
      size: 2,
      maxOverflow: 0,
    });
    pool.on('checkout', () => checkouts++);
    db = new Kysely<Db>({ dialect: new PostgresJSDialect({ postgres: poolSql(pool) }) });
    await db.schema.dropTable(TABLE).ifExists().execute();
    await db.schema
      .createTable(TABLE)
      .addColumn('id', 'serial', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .execute();
  });
  afterAll(async () => {
    await db?.schema.dropTable(TABLE).ifExists().execute();
    await db?.destroy(); // sql.end(): closes the pool
    expect(pool.closed).toBe(true);
    await admin.end({ timeout: 1 });
  });

  it('insert returning, select, each query one checkout', async () => {
    const before = checkouts;
    const row = await db
      .insertInto(TABLE)
      .values({ name: 'kim' })
      .returning(['id', 'name'])
      .executeTakeFirstOrThrow();
    expect(row.name).toBe('kim');
    const rows = await db.selectFrom(TABLE).selectAll().where('id', '=', row.id).execute();
    expect(rows).toEqual([row]);
    expect(checkouts - before).toBe(2);
    expect(pool.stats().used).toBe(0);
  });

  it('a transaction rolled back on throw, a committed one, a stream', async () => {
    await expect(
      db.transaction().execute(async (tx) => {
        await tx.insertInto(TABLE).values({ name: 'gone' }).execute();
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    await db
      .transaction()
      .setIsolationLevel('serializable')
      .execute(async (tx) => {
        const [iso] = (
          await ksql<{ iso: string }>`select current_setting('transaction_isolation') as iso`.execute(tx)
        ).rows;
        expect(iso!.iso).toBe('serializable');
        await tx.insertInto(TABLE).values({ name: 'kept' }).execute();
      });
    const names = (await db.selectFrom(TABLE).select('name').orderBy('id').execute()).map((r) => r.name);
    expect(names).toContain('kept');
    expect(names).not.toContain('gone');
    const streamed: string[] = [];
    for await (const r of db.selectFrom(TABLE).select('name').orderBy('id').stream(1)) streamed.push(r.name);
    expect(streamed).toEqual(names);
    expect(pool.stats().used).toBe(0);
    const backends =
      await admin`select count(*)::int as n from pg_stat_activity where application_name = ${app}`;
    expect(backends[0]!.n).toBe(pool.stats().size);
  });
});
