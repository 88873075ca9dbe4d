/**
 * The pg driver against the real PostgreSQL: eager connect and its errors,
 * options rejected by name, queries, reset without a round trip, transactions,
 * query observation, and faults (backend killed idle or mid-query, a proxy cut
 * mid-query and at every handshake step): every caller settles and nothing is
 * left unhandled (test/support/setup.ts fails the run on an unhandled rejection).
 */

import pgLib from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { type PgClientConstructor, type PgConnection, pg } from '../../src/drivers/pg/index.js';
import { ConnectError, createPool, type Pool, PoolConfigError } from '../../src/index.js';
import {
  adminSql,
  appName,
  backendPids,
  connectCtx,
  PG_URL,
  recordingObserver,
  terminate,
} from '../support/postgres.js';
import { serverAvailable } from '../support/servers.js';
import { startTcpProxy } from '../support/tcp-proxy.js';

const up = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');
const PG_PORT = Number(new URL(PG_URL).port || 5432);

function withPassword(url: string, password: string): string {
  const u = new URL(url);
  u.username = 'pgd_nobody';
  u.password = password;
  return u.toString();
}

/** ReadyForQuery messages seen on this connection from now on: one per round trip. */
function roundTrips(conn: PgConnection): () => number {
  let n = 0;
  (conn.raw as unknown as { connection: NodeJS.EventEmitter }).connection.on('readyForQuery', () => n++);
  return () => n;
}

describe.skipIf(!up)('pg driver', () => {
  const admin = adminSql();
  afterAll(() => admin.end({ timeout: 1 }));

  it('rejects an unsupported or unknown option by name', () => {
    expect(() => pg({ connectionTimeoutMillis: 5 } as never)).toThrow(PoolConfigError);
    expect(() => pg({ connectionTimeoutMillis: 5 } as never)).toThrow(
      /connectionTimeoutMillis.*connectTimeoutMs/,
    );
    expect(() => pg({ max: 5 } as never)).toThrow(/'max'/);
    expect(() => pg({ hots: 'x' } as never)).toThrow(
      /unknown option 'hots'.*allowed: connectionString, host/,
    );
    expect(() => pg(42 as never)).toThrow(PoolConfigError);
  });

  it('connects eagerly: a wrong password or database is a ConnectError naming the target, password masked', async () => {
    const secret = 'pgd-Secret-123';
    const driver = pg(withPassword(PG_URL, secret));
    const error = await driver.connect(connectCtx()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as Error).message).toContain('pgd_nobody:***@');
    expect((error as Error).message).not.toContain(secret);
    expect(JSON.stringify(error)).not.toContain(secret);

    const u = new URL(PG_URL);
    u.pathname = '/pgd_no_such_database';
    const missing = await pg(u.toString())
      .connect(connectCtx())
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ConnectError);
    expect(((missing as ConnectError).cause as { code?: string }).code).toBe('3D000');
  });

  it('query, pid and raw; reset sends nothing when idle and rolls back an open transaction', async () => {
    const application = appName('pgd-reset');
    const pool = createPool(pg(PG_URL, { application_name: application }), {
      telemetry: false,
      size: 1,
      maxOverflow: 0,
    });
    try {
      await pool.use(async (c) => {
        const { rows } = await c.query<{ pid: number; n: number }>(
          'select pg_backend_pid() as pid, $1::int as n',
          [7],
        );
        expect(rows[0]).toEqual({ pid: c.pid, n: 7 });
        expect(await backendPids(admin, application)).toEqual([c.pid]);
        await c.query('create temp table pgd_reset (x int)');
      });
      const conn = await pool.acquire();
      const trips = roundTrips(conn);
      pool.release(conn); // idle: no ROLLBACK
      expect(trips()).toBe(0);
      const again = await pool.acquire();
      expect(again).toBe(conn);
      await again.query('begin');
      await again.query('insert into pgd_reset values (1)');
      pool.release(again); // in a transaction: ROLLBACK
      const third = await pool.acquire();
      expect(third).toBe(conn);
      expect(trips()).toBe(3); // begin, insert, rollback
      expect(third.raw.getTransactionStatus?.()).toBe('I');
      expect((await third.query('select count(*)::int as n from pgd_reset')).rows[0].n).toBe(0);
      pool.release(third);
    } finally {
      await pool.close();
    }
  });

  it('pg before 8.21 (no getTransactionStatus): reset still reads the status from ReadyForQuery, no round trip when idle', async () => {
    // pg.Client as pg 8.11-8.20 made it: the same protocol, no getTransactionStatus method
    class OldClient extends pgLib.Client {}
    Object.defineProperty(OldClient.prototype, 'getTransactionStatus', { value: undefined });
    const Client = OldClient as unknown as PgClientConstructor;
    expect(typeof new Client({}).getTransactionStatus).toBe('undefined');
    const driver = pg(PG_URL, { Client });
    const pool = createPool(driver, { telemetry: false, size: 1, maxOverflow: 0 });
    const conn = await pool.acquire();
    try {
      await conn.query('select 1');
      const trips = roundTrips(conn);
      expect(driver.reset?.(conn)).toBeUndefined(); // idle: nothing sent
      await conn.query('begin');
      await conn.query('select 1');
      const pending = driver.reset?.(conn); // in a transaction: ROLLBACK
      expect(pending).toBeInstanceOf(Promise);
      await pending;
      await conn.query('select 1').catch(() => {}); // a failed transaction ('E') too
      await conn.query('begin');
      await conn.query('select 1/0').catch(() => {});
      const failed = driver.reset?.(conn);
      expect(failed).toBeInstanceOf(Promise);
      await failed;
      expect(driver.reset?.(conn)).toBeUndefined();
      expect((await conn.query('select now() = statement_timestamp() as outside')).rows).toEqual([
        { outside: true },
      ]);
      // begin, select 1, rollback, select 1, begin, select 1/0, rollback, and the check
      expect(trips()).toBe(8);
    } finally {
      pool.release(conn);
      await pool.close();
    }
  });

  it('transactions: commit, rollback, isolation and read only', async () => {
    const pool = createPool(pg(PG_URL), { telemetry: false, size: 2 });
    // one table per process: the Node 24 and Node 20 suites run side by side on one server
    const table = `pgd_tx_${process.pid}`;
    try {
      await pool.use((c) => c.query(`create table if not exists ${table} (id int primary key, v text)`));
      await pool.use((c) => c.query(`delete from ${table}`));
      await pool.transaction(async (tx) => {
        await tx.query(`insert into ${table} values ($1, $2)`, [1, 'kept']);
      });
      await expect(
        pool.transaction(async (tx) => {
          await tx.query(`insert into ${table} values ($1, $2)`, [2, 'rolled back']);
          throw new Error('pgd: roll back');
        }),
      ).rejects.toThrow('pgd: roll back');
      const level = await pool.transaction(
        async (tx) => (await tx.query('show transaction_isolation')).rows[0].transaction_isolation,
        { isolation: 'serializable' },
      );
      expect(level).toBe('serializable');
      const readOnly = await pool
        .transaction((tx) => tx.query(`insert into ${table} values (3, $1)`, ['x']), { readOnly: true })
        .catch((e: { code?: string }) => e.code);
      expect(readOnly).toBe('25006');
      const { rows } = await pool.use((c) => c.query(`select id from ${table} order by id`));
      expect(rows).toEqual([{ id: 1 }]);
    } finally {
      await pool.use((c) => c.query(`drop table if exists ${table}`)).catch(() => {});
      await pool.close();
    }
  });

  it('observes every query once per connection, also those sent through raw, with text and no values', async () => {
    const observer = recordingObserver();
    const conn = await pg(PG_URL).connect(connectCtx({ observer }));
    const driver = pg(PG_URL);
    try {
      await conn.query('select $1::text as secret', ['pgd-value']);
      await conn.raw.query({ text: 'select 2 as n' });
      await new Promise<void>((resolve, reject) =>
        conn.raw.query('select 3', (error?: Error | null) => (error ? reject(error) : resolve())),
      );
      await conn.query('select pgd_nope').catch(() => {});
      expect(observer.started.map((i) => i.text)).toEqual([
        'select $1::text as secret',
        'select 2 as n',
        'select 3',
        'select pgd_nope',
      ]);
      expect(observer.started[0]!.unparameterized).toBeUndefined();
      expect(observer.started[1]!.unparameterized).toBe(true);
      expect(observer.ended.length).toBe(4);
      expect((observer.ended[3]!.error as { code?: string }).code).toBe('42703');
      expect(JSON.stringify(observer.started)).not.toContain('pgd-value');
    } finally {
      await driver.close(conn);
    }
  });

  it('a backend killed while idle is never handed out and crashes nothing; one killed mid-query fails only its caller', async () => {
    const application = appName('pgd-kill');
    const pool = createPool(pg(PG_URL, { application_name: application }), {
      telemetry: false,
      size: 2,
      maxOverflow: 0,
    });
    const invalidated: unknown[] = [];
    pool.on('invalidate', (e) => invalidated.push(e.error));
    try {
      const first = await pool.use((c) => c.pid);
      expect(await terminate(admin, first)).toBe(true);
      await expect.poll(() => invalidated.length).toBe(1);
      const second = await pool.use((c) => c.pid);
      expect(second).not.toBe(first);

      let victim = 0;
      const slow = pool.use(async (c) => {
        victim = c.pid;
        await c.query('select pg_sleep(10)');
      });
      const settled = slow.then(
        () => 'resolved',
        (e: unknown) => e,
      );
      await expect.poll(() => victim).not.toBe(0);
      await new Promise((r) => setTimeout(r, 100));
      expect(await terminate(admin, victim)).toBe(true);
      const error = await settled;
      expect(pool.driver.isDisconnect(error)).toBe(true);
      const third = await pool.use((c) => c.pid);
      expect(third).not.toBe(victim);
    } finally {
      await pool.close();
    }
  });

  it('a proxy cut mid-query settles every caller and the pool serves again', async () => {
    const proxy = await startTcpProxy({ targetPort: PG_PORT });
    const pool: Pool<PgConnection> = createPool(pg(proxy.url(PG_URL)), {
      telemetry: false,
      size: 4,
      maxOverflow: 0,
    });
    try {
      await pool.use((c) => c.query('select 1'));
      const calls = Array.from({ length: 8 }, () =>
        pool
          .use((c) => c.query('select pg_sleep(5)'))
          .then(
            () => 'ok',
            (e: unknown) => (pool.driver.isDisconnect(e) ? 'disconnect' : `other: ${String(e)}`),
          ),
      );
      await new Promise((r) => setTimeout(r, 300));
      expect(proxy.cutAll({ reset: true })).toBeGreaterThan(0);
      const results = await Promise.all(calls);
      expect(results.every((r) => r === 'disconnect' || r === 'ok')).toBe(true);
      expect(results).toContain('disconnect');
      const { rows } = await pool.use((c) => c.query('select 1 as n'));
      expect(rows).toEqual([{ n: 1 }]);
    } finally {
      await pool.close();
      await proxy.close();
    }
  });

  it.each([
    ['startup', (dir: 'up' | 'down', chunk: Buffer) => dir === 'up' && chunk.includes('user')],
    ['authentication reply', (dir: 'up' | 'down', chunk: Buffer) => dir === 'down' && chunk[0] === 0x52],
    [
      'ReadyForQuery',
      (dir: 'up' | 'down', chunk: Buffer) =>
        dir === 'down' && chunk.includes(Buffer.from([0x5a, 0, 0, 0, 5])),
    ],
  ])('a connection cut at %s fails connect with a ConnectError; nothing unhandled', async (_step, match) => {
    const proxy = await startTcpProxy({ targetPort: PG_PORT });
    const driver = pg(proxy.url(PG_URL));
    try {
      proxy.cutWhen(match);
      const error = await driver.connect(connectCtx({ timeoutMs: 3000 })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectError);
      expect((error as Error).message).toMatch(/could not connect to postgres:\/\/.*127\.0\.0\.1/);
      // the next connect through the same proxy works
      const conn = await driver.connect(connectCtx());
      expect((await conn.query('select 1 as n')).rows).toEqual([{ n: 1 }]);
      await driver.close(conn);
    } finally {
      await proxy.close();
    }
  });

  it('a stalled server fails connect at connectTimeoutMs', async () => {
    const proxy = await startTcpProxy({ targetPort: PG_PORT, mode: 'stall' });
    try {
      const error = await pg(proxy.url(PG_URL))
        .connect(connectCtx({ timeoutMs: 200 }))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectError);
      expect(((error as ConnectError).cause as { code?: string }).code).toBe('CONNECT_TIMEOUT');
    } finally {
      await proxy.close();
    }
  });
});
