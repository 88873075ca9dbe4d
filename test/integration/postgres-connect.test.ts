/** The PostgreSQL driver on its own: connect, query, parameters sent apart from the text, observer. */
import { afterAll, describe, expect, it } from 'vitest';
import { postgres } from '../../src/drivers/postgres/index.js';
import {
  adminSql,
  appName,
  backendPids,
  connectCtx,
  PG_URL,
  POSTGRES_MAJOR,
  recordingObserver,
} from '../support/postgres.js';
import { serverAvailable } from '../support/servers.js';

const up = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');

describe.skipIf(!up)('postgres driver: connect and query', () => {
  const admin = adminSql();
  afterAll(() => admin.end({ timeout: 1 }));

  it('describes its target without a password', () => {
    const driver = postgres('postgres://alice:s3cret-pw@127.0.0.1:5432/test');
    expect(driver.target).toEqual({
      system: 'postgresql',
      host: '127.0.0.1',
      port: 5432,
      database: 'test',
      user: 'alice',
    });
    expect(driver.display).toBe('postgres://alice:***@127.0.0.1:5432/test');
    expect(JSON.stringify(driver.target)).not.toContain('s3cret');
  });

  it('opens exactly one backend, eagerly, and knows its pid', async () => {
    const application = appName('connect');
    const driver = postgres(PG_URL, { applicationName: application });
    const conn = await driver.connect(connectCtx());
    try {
      // connected before any user query: the backend exists already
      expect(await backendPids(admin, application)).toEqual([conn.pid]);
      const [row] = await conn.sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
      expect(row?.pid).toBe(conn.pid);
      // concurrent queries on one connection still use that one backend
      const pids = await Promise.all(
        Array.from({ length: 20 }, () => conn.query<{ pid: number }[]>('select pg_backend_pid() as pid')),
      );
      expect(new Set(pids.map((r) => r[0]?.pid))).toEqual(new Set([conn.pid]));
      expect(await backendPids(admin, application)).toEqual([conn.pid]);
      expect(await driver.ping(conn)).toBe(true);
      expect(driver.isAlive!(conn)).toBe(true);
    } finally {
      await driver.close(conn);
    }
    expect(driver.isAlive!(conn)).toBe(false);
    expect(await backendPids(admin, application)).toEqual([]);
  });

  it('sends parameters apart from the text (tagged template and query())', async () => {
    const application = appName('params');
    const driver = postgres(PG_URL, { applicationName: application });
    const conn = await driver.connect(connectCtx());
    try {
      const hostile = "x'); drop table if exists cistern_nope; --";
      const [a] = await conn.sql<{ v: string }[]>`select ${hostile}::text as v`;
      expect(a?.v).toBe(hostile);
      const [b] = await conn.query<{ v: string; n: number }[]>('select $1::text as v, $2::int as n', [
        hostile,
        7,
      ]);
      expect(b).toEqual({ v: hostile, n: 7 });
      // the server saw placeholders, never the value, in the statement text
      const [seen] = await admin<{ query: string }[]>`
        select query from pg_stat_activity where pid = ${conn.pid}`;
      expect(seen?.query).toContain('$1');
      expect(seen?.query).not.toContain('drop table');
    } finally {
      await driver.close(conn);
    }
  });

  it('reports each query to the observer with $n text and no values, once started and once ended', async () => {
    const observer = recordingObserver();
    const driver = postgres(PG_URL);
    const conn = await driver.connect(connectCtx({ observer }));
    try {
      const ids = [1, 2];
      const secret = 'value-that-must-not-appear';
      await conn.sql`select ${secret}::text as s, x from (values (1),(2),(3)) v(x) where x in ${conn.sql(ids)} and ${conn.sql`x > ${0}`}`;
      await conn.query('select $1::text as s', [secret]);
      await conn.sql.unsafe('select 1 as one');
      await expect(conn.sql`select * from cistern_missing_table`).rejects.toMatchObject({ code: '42P01' });
      // a fragment that is only interpolated never runs, so it is never reported on its own
      const fragment = conn.sql`where true`;
      await conn.sql`select 1 ${fragment}`;
      // cursors end their scope when they close
      for await (const rows of conn.sql`select generate_series(1, 5) as n`.cursor(2))
        expect(rows.length).toBeGreaterThan(0);

      expect(observer.started.map((i) => i.text)).toEqual([
        'select $1::text as s, x from (values (1),(2),(3)) v(x) where x in ($2,$3) and x > $4',
        'select $1::text as s',
        'select 1 as one',
        'select * from cistern_missing_table',
        'select 1 where true',
        'select generate_series(1, 5) as n',
      ]);
      expect(observer.started[2]?.unparameterized).toBe(true);
      expect(observer.ended).toHaveLength(observer.started.length);
      expect(observer.ended[3]?.error).toMatchObject({ code: '42P01' });
      expect(JSON.stringify(observer.started)).not.toContain(secret);

      // transaction control goes through the same path, named by operation
      await driver.begin!(conn, { isolation: 'repeatable read', readOnly: true });
      await driver.commit!(conn);
      await driver.begin!(conn, {});
      await driver.rollback!(conn);
      expect(observer.started.slice(-4)).toEqual([
        { text: 'begin isolation level repeatable read read only', operation: 'BEGIN' },
        { text: 'commit', operation: 'COMMIT' },
        { text: 'begin', operation: 'BEGIN' },
        { text: 'rollback', operation: 'ROLLBACK' },
      ]);
      // pings and resets are pool housekeeping, not reported
      const before = observer.started.length;
      await driver.ping(conn);
      await conn.sql`begin`;
      await driver.reset!(conn);
      expect(observer.started.length).toBe(before + 1);
      expect(observer.ended).toHaveLength(observer.started.length);
    } finally {
      await driver.close(conn);
    }
  });

  it('query cancellation works (its side connection is allowed) and the connection stays usable', async () => {
    const driver = postgres(PG_URL);
    const conn = await driver.connect(connectCtx());
    try {
      const running = conn.sql`select pg_sleep(10)`;
      const settled = running.then(
        () => 'finished',
        (e: unknown) => e,
      );
      await new Promise((r) => setTimeout(r, 100));
      await running.cancel();
      expect(await settled).toMatchObject({ code: '57014' });
      expect(driver.isAlive!(conn)).toBe(true);
      const [row] = await conn.sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
      expect(row?.pid).toBe(conn.pid);
    } finally {
      await driver.close(conn);
    }
  });

  it('with no observer, sql is the postgres.js instance itself (nothing in between)', async () => {
    const driver = postgres(PG_URL);
    const conn = await driver.connect(connectCtx());
    try {
      expect(conn.sql).toBe(conn.raw);
    } finally {
      await driver.close(conn);
    }
  });

  it('fetchTypes: arrays parse by default; with fetchTypes false (3.x) they come back as text', async () => {
    const withTypes = postgres(PG_URL);
    const without = postgres(PG_URL, { fetchTypes: false });
    const a = await withTypes.connect(connectCtx());
    const b = await without.connect(connectCtx());
    try {
      const [x] = await a.sql<{ v: number[] }[]>`select array[1,2,3]::int4[] as v`;
      expect(x?.v).toEqual([1, 2, 3]);
      const [y] = await b.sql<{ v: unknown }[]>`select array[1,2,3]::int4[] as v`;
      // postgres.js 4 knows the built-in array types without a catalog query
      expect(y?.v).toEqual(POSTGRES_MAJOR === 3 ? '{1,2,3}' : [1, 2, 3]);
    } finally {
      await withTypes.close(a);
      await without.close(b);
    }
  });

  it('rejects unknown options and the options the pool owns', () => {
    expect(() => postgres({ url: PG_URL, bogus: 1 } as never)).toThrow(/unknown option 'bogus'/);
    expect(() => postgres({ url: PG_URL, postgresOptions: { max: 10 } })).toThrow(/'max' is owned/);
  });
});
