/** drizzle-orm/postgres-js on poolSql(pool): every query drizzle sends runs on a cistern connection. */
import { eq } from 'drizzle-orm';
import { integer, pgTable, serial, text, timestamp } from 'drizzle-orm/pg-core';
import { drizzle } from 'drizzle-orm/postgres-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PgConnection, poolSql, postgres } from '../../src/drivers/postgres/index.js';
import { createPool, type Pool } from '../../src/index.js';
import { adminSql, appName, eventually, PG_URL } from '../support/postgres.js';
import { serverAvailable } from '../support/servers.js';

const up = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');
const TABLE = `face_drizzle_${process.pid}`;

const users = pgTable(TABLE, {
  id: serial('id').primaryKey(),
  name: text('name').notNull(),
  score: integer('score').notNull().default(0),
  seenAt: timestamp('seen_at', { withTimezone: true, mode: 'date' }),
});

describe.skipIf(!up)('drizzle-orm/postgres-js on poolSql', () => {
  const admin = adminSql();
  const app = appName('drizzle');
  let pool: Pool<PgConnection>;
  let db: ReturnType<typeof drizzle>;
  let checkouts = 0;

  beforeAll(async () => {
    await admin.unsafe(
      `drop table if exists ${TABLE}; create table ${TABLE} (id serial primary key, name text not null, score int not null default 0, seen_at timestamptz)`,
    );
    pool = createPool(postgres(PG_URL, { applicationName: app }), {
      telemetry: false,
      size: 3,
      maxOverflow: 0,
    });
    pool.on('checkout', () => checkouts++);
    db = drizzle({ client: poolSql(pool) });
  });
  afterAll(async () => {
    await pool?.close();
    await admin.unsafe(`drop table if exists ${TABLE}`);
    await admin.end({ timeout: 1 });
  });

  it('insert returning and select, with timestamptz as Date, each on a checkout', async () => {
    const at = new Date('2024-05-06T07:08:09.123Z');
    const before = checkouts;
    const [row] = await db.insert(users).values({ name: 'ada', seenAt: at }).returning();
    expect(row).toMatchObject({ name: 'ada', score: 0 });
    expect(row!.seenAt).toBeInstanceOf(Date);
    expect(row!.seenAt!.toISOString()).toBe(at.toISOString());
    const found = await db.select().from(users).where(eq(users.id, row!.id));
    expect(found[0]!.seenAt!.getTime()).toBe(at.getTime());
    expect(checkouts - before).toBe(2);
    expect(pool.stats().used).toBe(0);
  });

  it('a transaction commits; a nested one (savepoint) that throws is rolled back alone', async () => {
    const result = await db.transaction(async (tx) => {
      await tx.insert(users).values({ name: 'tx-kept' });
      await tx
        .transaction(async (nested) => {
          await nested.insert(users).values({ name: 'tx-dropped' });
          throw new Error('roll back the savepoint');
        })
        .catch((e: Error) => expect(e.message).toBe('roll back the savepoint'));
      await tx.transaction(async (nested) => {
        await nested.update(users).set({ score: 7 }).where(eq(users.name, 'tx-kept'));
      });
      return 'ok';
    });
    expect(result).toBe('ok');
    const names = await admin`select name, score from ${admin(TABLE)} where name like 'tx-%' order by name`;
    expect(names).toEqual([{ name: 'tx-kept', score: 7 }]);
    expect(pool.stats().used).toBe(0);
  });

  it('a transaction that throws rolls back, and a tool error leaves nothing checked out', async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.insert(users).values({ name: 'never' });
        tx.rollback();
      }),
    ).rejects.toThrow(/Rollback/);
    expect(await admin`select 1 from ${admin(TABLE)} where name = 'never'`).toHaveLength(0);
    await expect(db.execute('select * from face_no_such_table')).rejects.toThrow(/face_no_such_table/);
    expect(pool.stats().used).toBe(0);
  });

  it('nothing bypasses the pool: every backend with this application_name is a pooled connection', async () => {
    await Promise.all(Array.from({ length: 6 }, (_, i) => db.insert(users).values({ name: `burst-${i}` })));
    // hold all three pooled connections at once: their pids are every connection the pool has
    // (each holder waits until all three are out, bounded, rather than a fixed 50 ms: under
    // load a connection still being pinged or reset could come back after a holder let go)
    const allOut = () => eventually(() => pool.stats().used === 3, 5000);
    const held = await Promise.all(
      Array.from({ length: 3 }, () =>
        pool.use(async (c) => {
          await allOut();
          return c.pid;
        }),
      ),
    );
    const backends = await admin`select pid from pg_stat_activity where application_name = ${app}`;
    expect(new Set(held).size).toBe(3);
    expect(backends.map((b) => b.pid).sort()).toEqual([...held].sort());
  });
});
