/** Transactions through the pool on real PostgreSQL: commit, rollback, isolation, read only, retries, reset. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PgConnection, postgres } from '../../src/drivers/postgres/index.js';
import { createPool, type Pool } from '../../src/index.js';
import { adminSql, connectCtx, PG_URL } from '../support/postgres.js';
import { serverAvailable } from '../support/servers.js';

const up = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');
const TABLE = `cistern_tx_${process.pid}`;

describe.skipIf(!up)('postgres through the pool: transactions', () => {
  const admin = adminSql();
  let pool: Pool<PgConnection>;

  beforeAll(async () => {
    await admin.unsafe(
      `drop table if exists ${TABLE}; create table ${TABLE} (id serial primary key, kind int not null, note text)`,
    );
    pool = createPool(postgres(PG_URL), { telemetry: false, size: 4, maxOverflow: 0 });
  });
  afterAll(async () => {
    await pool?.close();
    await admin.unsafe(`drop table if exists ${TABLE}`);
    await admin.end({ timeout: 1 });
  });

  const count = async (note: string): Promise<number> => {
    const [row] = await admin<
      { n: number }[]
    >`select count(*)::int as n from ${admin(TABLE)} where note = ${note}`;
    return row!.n;
  };

  it('commits', async () => {
    const result = await pool.transaction(async (tx) => {
      await tx.sql`insert into ${tx.sql(TABLE)} (kind, note) values (0, 'commit')`;
      return 'done';
    });
    expect(result).toBe('done');
    expect(await count('commit')).toBe(1);
  });

  it('rolls back and rethrows when the function throws', async () => {
    const boom = new Error('boom');
    await expect(
      pool.transaction(async (tx) => {
        await tx.query(`insert into ${TABLE} (kind, note) values ($1, $2)`, [0, 'rollback']);
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await count('rollback')).toBe(0);
  });

  it('rolls back after a failed statement (25P02 state) and the connection stays usable', async () => {
    await expect(
      pool.transaction(async (tx) => {
        await tx.sql`insert into ${tx.sql(TABLE)} (kind, note) values (0, 'failed')`;
        await tx.sql`select 1/0`;
      }),
    ).rejects.toMatchObject({ code: '22012' });
    expect(await count('failed')).toBe(0);
    const rows = await Promise.all(Array.from({ length: 4 }, () => pool.use((c) => c.sql`select 1 as one`)));
    expect(rows.every((r) => r[0]?.one === 1)).toBe(true);
  });

  it.each(['read uncommitted', 'read committed', 'repeatable read', 'serializable'] as const)(
    'runs at isolation level %s',
    async (isolation) => {
      const level = await pool.transaction(
        async (tx) => {
          const [row] = await tx.sql<{ transaction_isolation: string }[]>`show transaction_isolation`;
          return row!.transaction_isolation;
        },
        { isolation },
      );
      expect(level).toBe(isolation);
    },
  );

  it('readOnly: a write fails with 25006 and nothing is written', async () => {
    await expect(
      pool.transaction(
        async (tx) => {
          await tx.sql`insert into ${tx.sql(TABLE)} (kind, note) values (0, 'readonly')`;
        },
        { readOnly: true },
      ),
    ).rejects.toMatchObject({ code: '25006' });
    expect(await count('readonly')).toBe(0);
  });

  /**
   * Write skew under SERIALIZABLE: each transaction reads the other's class and inserts into
   * its own; once both have read, one of them must fail with 40001.
   */
  async function writeSkew(
    retries: number,
  ): Promise<{ results: PromiseSettledResult<number>[]; attempts: number }> {
    let attempts = 0;
    let arrived = 0;
    let release!: () => void;
    const bothRead = new Promise<void>((r) => (release = r));
    const run = (mine: number, theirs: number) =>
      pool.transaction(
        async (tx) => {
          attempts++;
          const [row] = await tx.sql<{ n: number }[]>`
            select count(*)::int as n from ${tx.sql(TABLE)} where kind = ${theirs} and note = 'skew'`;
          if (++arrived === 2) release();
          // only the first round waits for the other one: a retry runs alone
          if (arrived <= 2) await Promise.race([bothRead, new Promise((r) => setTimeout(r, 2000))]);
          await tx.sql`insert into ${tx.sql(TABLE)} (kind, note) values (${mine}, 'skew')`;
          return row!.n;
        },
        { isolation: 'serializable', retries },
      );
    const results = await Promise.allSettled([run(1, 2), run(2, 1)]);
    return { results, attempts };
  }

  it('a real serialization failure (40001) is retryable: without retries one transaction fails', async () => {
    await admin`delete from ${admin(TABLE)} where note = 'skew'`;
    const { results } = await writeSkew(0);
    const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(failed).toHaveLength(1);
    expect(failed[0]!.reason).toMatchObject({ code: '40001' });
    expect(pool.driver.isRetryable!(failed[0]!.reason)).toBe(true);
    expect(await count('skew')).toBe(1);
  });

  it('with retries the failed one is re-run and both commit', async () => {
    await admin`delete from ${admin(TABLE)} where note = 'skew'`;
    const { results, attempts } = await writeSkew(3);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(attempts).toBe(3);
    expect(await count('skew')).toBe(2);
  });
});

describe.skipIf(!up)('postgres: reset on check-in', () => {
  it('a transaction left open by a caller is rolled back before the next caller gets the connection', async () => {
    const pool = createPool(postgres(PG_URL), { telemetry: false, size: 1, maxOverflow: 0 });
    try {
      const pid = await pool.use(async (c) => {
        await c.sql`begin`;
        await c.sql`create temporary table cistern_left_open (x int)`;
        return c.pid;
      });
      const state = await pool.use(async (c) => {
        expect(c.pid).toBe(pid);
        const [row] = await c.sql<
          { open: boolean }[]
        >`select pg_current_xact_id_if_assigned() is not null as open`;
        const [tbl] = await c.sql<
          { t: string | null }[]
        >`select to_regclass('pg_temp.cistern_left_open')::text as t`;
        return { open: row!.open, table: tbl!.t };
      });
      expect(state).toEqual({ open: false, table: null });
      // a failed transaction ('E' status) is rolled back too
      await pool.use(async (c) => {
        await c.sql`begin`;
        await c.sql`select 1/0`.catch(() => {});
      });
      const [one] = await pool.use((c) => c.sql`select 1 as one`);
      expect(one?.one).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it('reset costs nothing when no transaction is open (no promise, no round trip)', async () => {
    const driver = postgres(PG_URL);
    const conn = await driver.connect(connectCtx());
    try {
      await conn.sql`select 1`;
      expect(driver.reset!(conn)).toBeUndefined();
      await conn.sql`begin`;
      const pending = driver.reset!(conn);
      expect(pending).toBeInstanceOf(Promise);
      await pending;
      expect(driver.reset!(conn)).toBeUndefined();
      // a large result spanning many socket chunks keeps the framing in step
      const rows = await conn.sql`select repeat('x', 1000) as s from generate_series(1, 2000)`;
      expect(rows).toHaveLength(2000);
      expect(driver.reset!(conn)).toBeUndefined();
      await conn.sql`begin`;
      await conn.sql`select repeat('y', 1000) from generate_series(1, 2000)`;
      expect(driver.reset!(conn)).toBeInstanceOf(Promise);
    } finally {
      await driver.close(conn);
    }
  });

  it('discardOnReset: session settings do not leak to the next caller', async () => {
    const plain = createPool(postgres(PG_URL), { telemetry: false, size: 1, maxOverflow: 0 });
    const discarding = createPool(postgres(PG_URL, { discardOnReset: true, prepare: false }), {
      telemetry: false,
      size: 1,
      maxOverflow: 0,
    });
    try {
      for (const pool of [plain, discarding]) {
        await pool.use((c) => c.sql`set statement_timeout = 4321`);
      }
      const show = (pool: Pool<PgConnection>) =>
        pool.use(
          async (c) =>
            (await c.sql<{ statement_timeout: string }[]>`show statement_timeout`)[0]!.statement_timeout,
        );
      expect(await show(plain)).toBe('4321ms');
      expect(await show(discarding)).toBe('0');
    } finally {
      await plain.close();
      await discarding.close();
    }
  });
});
