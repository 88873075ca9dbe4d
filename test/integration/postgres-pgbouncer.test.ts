/**
 * Behind a real PgBouncer in transaction mode: prepared statements off
 * (`prepare: false`), many pooled client connections multiplexed over few
 * server connections, transactions kept on one server connection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PgConnection, postgres } from '../../src/drivers/postgres/index.js';
import { createPool, type Pool } from '../../src/index.js';
import { type PgBouncer, pgbouncerInstalled, startPgBouncer } from '../support/pgbouncer.js';
import { adminSql, connectCtx, PG_URL } from '../support/postgres.js';
import { IN_CI, serverAvailable } from '../support/servers.js';

const up = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');
const installed = pgbouncerInstalled();
if (up && !installed) {
  const line = 'pgbouncer is not installed: apt-get install -y pgbouncer (or set PGBOUNCER_BIN)';
  if (IN_CI) throw new Error(`CI: ${line}`);
  console.warn(`\n!!!!! SKIPPING PgBouncer tests: ${line}\n`);
}
const TABLE = `cistern_bouncer_${process.pid}`;

describe.skipIf(!up)('postgres: prepare option', () => {
  it('prepare: false leaves no named prepared statement on the server; the default does', async () => {
    const count = async (prepare: boolean): Promise<number> => {
      const driver = postgres(PG_URL, { prepare });
      const conn = await driver.connect(connectCtx());
      try {
        for (let i = 0; i < 3; i++) {
          await conn.sql`select ${i}::int as i`;
          await conn.query('select $1::text as t', [String(i)]);
        }
        const [row] = await conn.sql<{ n: number }[]>`select count(*)::int as n from pg_prepared_statements`;
        return row!.n;
      } finally {
        await driver.close(conn);
      }
    };
    expect(await count(false)).toBe(0);
    expect(await count(true)).toBeGreaterThan(0);
  });
});

describe.skipIf(!up || !installed)('postgres through PgBouncer (transaction mode, prepare: false)', () => {
  let bouncer: PgBouncer;
  let pool: Pool<PgConnection>;
  const admin = adminSql();

  beforeAll(async () => {
    await admin.unsafe(
      `drop table if exists ${TABLE}; create table ${TABLE} (id serial primary key, n int not null)`,
    );
    bouncer = (await startPgBouncer({ poolMode: 'transaction', serverPoolSize: 2 }))!;
    pool = createPool(postgres(bouncer.url, { prepare: false }), {
      telemetry: false,
      size: 6,
      maxOverflow: 0,
    });
  });
  afterAll(async () => {
    await pool?.close();
    await bouncer?.stop();
    await admin.unsafe(`drop table if exists ${TABLE}`);
    await admin.end({ timeout: 1 });
  });

  it('serves many concurrent parameterized queries over 2 server connections', async () => {
    const seen = new Set<number>();
    const callers = Array.from({ length: 24 }, async (_, i) => {
      for (let n = 0; n < 25; n++) {
        await pool.use(async (c) => {
          const [a] = await c.sql<
            { x: number; pid: number }[]
          >`select ${n}::int + ${i}::int as x, pg_backend_pid() as pid`;
          expect(a!.x).toBe(n + i);
          seen.add(a!.pid);
          const [b] = await c.query<{ y: string }[]>('select $1::text || $2::text as y', ['n', String(n)]);
          expect(b!.y).toBe(`n${n}`);
        });
      }
    });
    await Promise.all(callers);
    // 6 pooled client connections, multiplexed by PgBouncer over at most 2 server backends
    expect(seen.size).toBeGreaterThanOrEqual(1);
    expect(seen.size).toBeLessThanOrEqual(2);
  });

  it('a transaction stays on one server connection, commits and rolls back', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        pool.transaction(async (tx) => {
          const [first] = await tx.sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
          await tx.sql`insert into ${tx.sql(TABLE)} (n) values (${i})`;
          const [second] = await tx.sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
          return first!.pid === second!.pid;
        }),
      ),
    );
    expect(results.every(Boolean)).toBe(true);
    await expect(
      pool.transaction(async (tx) => {
        await tx.sql`insert into ${tx.sql(TABLE)} (n) values (${-1})`;
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    const [row] = await admin<{ n: number; neg: number }[]>`
      select count(*)::int as n, count(*) filter (where n < 0)::int as neg from ${admin(TABLE)}`;
    expect(row).toEqual({ n: 12, neg: 0 });
  });
});
