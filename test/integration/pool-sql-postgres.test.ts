/** poolSql(pool): the postgres.js `Sql` face over a cistern pool, on real PostgreSQL. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PgConnection, poolSql, postgres } from '../../src/drivers/postgres/index.js';
import { createPool, type Pool } from '../../src/index.js';
import { adminSql, appName, PG_URL } from '../support/postgres.js';
import { serverAvailable } from '../support/servers.js';

const up = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');
const TABLE = `face_poolsql_${process.pid}`;

describe.skipIf(!up)('poolSql: a postgres.js Sql backed by the pool', () => {
  const admin = adminSql();
  const app = appName('poolsql');
  let pool: Pool<PgConnection>;
  let sql: ReturnType<typeof poolSql>;
  let checkouts = 0;
  let checkins = 0;

  beforeAll(async () => {
    await admin.unsafe(
      `drop table if exists ${TABLE}; create table ${TABLE} (id int primary key, note text)`,
    );
    pool = createPool(postgres(PG_URL, { applicationName: app }), {
      telemetry: false,
      size: 2,
      maxOverflow: 0,
    });
    pool.on('checkout', () => checkouts++);
    pool.on('checkin', () => checkins++);
    sql = poolSql(pool);
  });
  afterAll(async () => {
    await sql?.end();
    await admin.unsafe(`drop table if exists ${TABLE}`);
    await admin.end({ timeout: 1 });
  });

  it('runs a pool-level tagged template on one checkout, checked in after', async () => {
    const before = checkouts;
    const rows = await sql`select ${41}::int + 1 as n, pg_backend_pid() as pid`;
    expect(rows[0]!.n).toBe(42);
    expect(checkouts - before).toBe(1);
    expect(checkins).toBe(checkouts);
    expect(pool.stats().used).toBe(0);
    // the backend is one the pool opened: it carries the pool's application_name
    const [who] = await admin`select application_name from pg_stat_activity where pid = ${rows[0]!.pid}`;
    expect(who!.application_name).toBe(app);
  });

  it('fragments, helpers, unsafe with params, values, raw, describe', async () => {
    await sql`insert into ${sql(TABLE)} ${sql([
      { id: 1, note: 'a' },
      { id: 2, note: 'b' },
    ])}`;
    const where = sql`where id = ${2}`;
    expect(await sql`select note from ${sql(TABLE)} ${where}`).toMatchObject([{ note: 'b' }]);
    expect(await sql.unsafe(`select note from ${TABLE} where id = $1`, [1], { prepare: true })).toMatchObject(
      [{ note: 'a' }],
    );
    expect(await sql.unsafe(`select id, note from ${TABLE} order by id`).values()).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
    const raw = await sql`select note from ${sql(TABLE)} where id = 1`.raw();
    expect(Buffer.from(raw[0]![0] as Uint8Array).toString()).toBe('a');
    const described = await sql`select id from ${sql(TABLE)} where id = ${1}`.describe();
    expect(described.types).toEqual([23]);
    expect(await sql`select ${sql.json({ a: 1 })}::jsonb as j`).toEqual([{ j: { a: 1 } }]);
    expect(pool.stats().used).toBe(0);
  });

  it('forEach, a callback cursor and an iterated cursor hold one checkout each', async () => {
    const seen: number[] = [];
    await sql`select generate_series(1, 5) as n`.forEach((row) => {
      seen.push(row.n as number);
    });
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    const chunks: number[] = [];
    await sql`select generate_series(1, 5) as n`.cursor(2, (rows) => {
      chunks.push(rows.length);
    });
    expect(chunks).toEqual([2, 2, 1]);
    const iterated: number[] = [];
    for await (const rows of sql`select generate_series(1, 7) as n`.cursor(3)) {
      expect(pool.stats().used).toBe(1);
      iterated.push(...rows.map((r) => r.n as number));
    }
    expect(iterated).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(pool.stats().used).toBe(0);
    // leaving the loop early checks the connection in too
    for await (const rows of sql`select generate_series(1, 7) as n`.cursor(2)) {
      expect(rows).toHaveLength(2);
      break;
    }
    expect(pool.stats().used).toBe(0);
  });

  it('begin -> pool.transaction; a failed savepoint rolls back only its part', async () => {
    const result = await sql.begin(async (tx) => {
      await tx`insert into ${tx(TABLE)} values (10, 'kept')`;
      await tx
        .savepoint(async (sp) => {
          await sp`insert into ${sp(TABLE)} values (11, 'dropped')`;
          throw new Error('undo the savepoint');
        })
        .catch((e: Error) => expect(e.message).toBe('undo the savepoint'));
      const inner = await tx.savepoint(
        'named',
        (sp) => sp`insert into ${sp(TABLE)} values (12, 'nested') returning id`,
      );
      return inner[0]!.id;
    });
    expect(result).toBe(12);
    const ids = await admin`select id from ${admin(TABLE)} where id >= 10 order by id`;
    expect(ids.map((r) => r.id)).toEqual([10, 12]);
    expect(pool.stats().used).toBe(0);
  });

  it('a thrown begin callback rolls back and checks in; isolation options reach BEGIN', async () => {
    await expect(
      sql.begin(async (tx) => {
        await tx`insert into ${tx(TABLE)} values (20, 'rolled back')`;
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await admin`select 1 from ${admin(TABLE)} where id = 20`).toHaveLength(0);
    const [level] = await sql.begin('isolation level serializable read only', (tx) => [
      tx`select current_setting('transaction_isolation') as iso, current_setting('transaction_read_only') as ro`,
    ]);
    expect(level).toEqual([{ iso: 'serializable', ro: 'on' }]);
    expect(() => sql.begin('isolation level chaos', async () => {})).toThrow(/allowed are/);
    expect(pool.stats().used).toBe(0);
  });

  it('a query error and a cancelled query leave nothing checked out', async () => {
    await expect(sql`select * from face_no_such_table`).rejects.toMatchObject({ code: '42P01' });
    const q = sql`select 1`;
    q.cancel();
    await expect(q).rejects.toMatchObject({ code: '57014' });
    expect(pool.stats().used).toBe(0);
  });

  it('reserve() holds one connection until release()', async () => {
    const reserved = await sql.reserve();
    expect(pool.stats().used).toBe(1);
    const [a] = await reserved`select pg_backend_pid() as pid`;
    const [b] = await reserved`select pg_backend_pid() as pid`;
    expect(a!.pid).toBe(b!.pid);
    reserved.release();
    expect(pool.stats().used).toBe(0);
  });

  it('parsers a tool sets on sql.options reach every pooled connection', async () => {
    const other = createPool(postgres(PG_URL, { applicationName: app }), {
      telemetry: false,
      size: 1,
      maxOverflow: 0,
    });
    const face = poolSql(other);
    const before = await face`select '2020-01-02T03:04:05Z'::timestamptz as t`;
    expect(before[0]!.t).toBeInstanceOf(Date);
    face.options.parsers[1184] = (x: string) => `text:${x}`;
    // the same statement, described before the change (postgres.js 4 takes per-query parsers)
    const again = await face`select '2020-01-02T03:04:05Z'::timestamptz as t`;
    const v4 = await other.use(
      (c) => typeof (c.sql`select 1` as unknown as { parsers?: unknown }).parsers === 'function',
    );
    if (v4) {
      expect(again[0]!.t).toMatch(/^text:2020-01-02/);
    }
    const [viaFace] = await face`select '2021-01-02T03:04:05Z'::timestamptz as t`;
    expect(viaFace!.t).toMatch(/^text:2021-01-02/);
    await face.begin(async (tx) => {
      const [inTx] = await tx`select '2022-01-02T03:04:05Z'::timestamptz as t, ${'x'}::text as x`;
      expect(inTx!.t).toMatch(/^text:2022-01-02/);
    });
    const viaUse = await other.use((c) => c.sql`select '2023-01-02T03:04:05Z'::timestamptz as t`);
    expect(viaUse[0]!.t).toMatch(/^text:2023-01-02/);
    expect(() => {
      face.options.parsers[25] = 'not a function' as never;
    }).toThrow(/must be a function/);
    await face.end();
    expect(other.closed).toBe(true);
  });
});
