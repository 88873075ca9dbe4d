/**
 * A pg connection whose backend was terminated inside `pool.use`, where the caller
 * caught the error (57P01) and returned normally: pg reports the socket's end only
 * after the query rejected, so the check-in came first and the next checkout within
 * `prePingWindowMs` (no ping) was handed the dead connection. The driver now marks
 * a connection dead as soon as one of its queries fails with a disconnect error,
 * so the pool discards it at check-in and the next `use` runs on another connection.
 * The transaction case passed before that change too (COMMIT fails with a disconnect
 * error and the pool discards the connection): it guards that a transaction whose
 * callback swallowed the error never reports success.
 *
 * The same through the `pg.Client` itself, where the driver's `query` is not in the way:
 * `conn.raw.query` inside `pool.use`, and the pg.Pool face's `client.query` followed by a
 * plain `client.release()` (pg-pool's own check, `client._queryable`, is still true at that
 * moment, so pg-pool hands such a client out again). The driver listens to the client's
 * connection for the backend's FATAL error, which arrives before the socket's end.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { type PgConnection, Pool as PgFacePool, pg } from '../../src/drivers/pg/index.js';
import { createPool } from '../../src/index.js';
import { adminSql, appName, eventually, PG_URL, terminate } from '../support/postgres.js';
import { serverAvailable } from '../support/servers.js';

const up = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');

describe.skipIf(!up)('pg: a connection that died inside use', () => {
  const admin = adminSql();
  afterAll(() => admin.end({ timeout: 1 }));

  /** Run a long query through `run`, terminate backend `pid` from another client once it runs, return the caught error. */
  async function killDuring(pid: number, run: (text: string) => Promise<unknown>): Promise<unknown> {
    const pending = run('select pg_sleep(30)').then(
      () => undefined,
      (error: unknown) => error,
    );
    const running = await eventually(async () => {
      const rows = await admin<{ state: string }[]>`
        select state from pg_stat_activity where pid = ${pid}`;
      return rows[0]?.state === 'active';
    }, 5000);
    expect(running).toBe(true);
    expect(await terminate(admin, pid)).toBe(true);
    return pending;
  }

  /** A pool of two, whose next checkout comes inside the pre-ping window (no ping guards it); `closes` collects the close reasons. */
  function deadTestPool(name: string) {
    const pool = createPool(pg(PG_URL, { application_name: appName(name) }), {
      size: 2,
      maxOverflow: 0,
      telemetry: false,
      prePingWindowMs: 60_000,
    });
    const closes: string[] = [];
    pool.on('close', (e) => closes.push(e.reason));
    return { pool, closes };
  }

  function killDuringQuery(conn: PgConnection): Promise<unknown> {
    return killDuring(conn.pid, (text) => conn.query(text));
  }

  it('is not handed out again when the caller swallowed the 57P01 error', async () => {
    const { pool, closes } = deadTestPool('pg-dead-in-use');
    try {
      for (let round = 0; round < 5; round++) {
        let killedPid = 0;
        let caught: unknown;
        const swallowed = await pool.use(async (conn) => {
          killedPid = conn.pid;
          caught = await killDuringQuery(conn);
          return 'swallowed';
        });
        expect(swallowed).toBe('swallowed');
        expect((caught as { code?: string } | undefined)?.code).toBe('57P01');
        // at once, with no wait for pg's 'end': the dead connection must not come back
        const next = await pool.use(async (conn) => {
          const result = await conn.query<{ one: number }>('select 1 as one');
          return { pid: conn.pid, one: result.rows[0]?.one };
        });
        expect(next.one).toBe(1);
        expect(next.pid).not.toBe(killedPid);
      }
      // every killed connection was closed by the pool, none returned to the idle list
      expect(closes.filter((r) => r === 'invalidated').length).toBe(5);
      expect(pool.stats().size).toBeLessThanOrEqual(2);
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('a transaction whose callback swallowed the 57P01 error fails at COMMIT, and the next use runs on another connection', async () => {
    const { pool } = deadTestPool('pg-dead-in-tx');
    try {
      for (let round = 0; round < 3; round++) {
        let killedPid = 0;
        let caught: unknown;
        const outcome = await pool
          .transaction(async (conn) => {
            killedPid = conn.pid;
            caught = await killDuringQuery(conn);
            return 'swallowed';
          })
          .then(
            (value) => ({ value }),
            (error: unknown) => ({ error }),
          );
        expect((caught as { code?: string } | undefined)?.code).toBe('57P01');
        // the work was not committed: the transaction cannot report success
        expect(outcome).toHaveProperty('error');
        const next = await pool.use(async (conn) => {
          const result = await conn.query<{ one: number }>('select 1 as one');
          return { pid: conn.pid, one: result.rows[0]?.one };
        });
        expect(next.one).toBe(1);
        expect(next.pid).not.toBe(killedPid);
      }
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('is not handed out again when the caller used conn.raw (the pg.Client) and swallowed the 57P01 error', async () => {
    const { pool, closes } = deadTestPool('pg-dead-raw');
    try {
      for (let round = 0; round < 5; round++) {
        let killedPid = 0;
        let caught: unknown;
        await pool.use(async (conn) => {
          killedPid = conn.pid;
          caught = await killDuring(conn.pid, (text) => conn.raw.query(text));
        });
        expect((caught as { code?: string } | undefined)?.code).toBe('57P01');
        // at once, with no wait for pg's 'end'
        const next = await pool.use(async (conn) => {
          const result = await conn.raw.query('select 1 as one');
          return { pid: conn.pid, one: result.rows[0]?.one };
        });
        expect(next.one).toBe(1);
        expect(next.pid).not.toBe(killedPid);
      }
      expect(closes.filter((r) => r === 'invalidated').length).toBe(5);
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('the pg.Pool face: a client whose query got 57P01 and that was released without the error is not handed out again', async () => {
    const application = appName('pg-dead-face');
    const pool = new PgFacePool({
      connectionString: PG_URL,
      application_name: application,
      max: 2,
      telemetry: false,
    });
    const removed: unknown[] = [];
    pool.on('remove', (client) => removed.push(client));
    try {
      for (let round = 0; round < 3; round++) {
        const client = await pool.connect();
        const pid = client.processID as number;
        const caught = await killDuring(pid, (text) => client.query(text));
        expect((caught as { code?: string } | undefined)?.code).toBe('57P01');
        client.release!();
        // at once: pool.connect() and pool.query() get another backend
        const again = await pool.connect();
        try {
          expect(again).not.toBe(client);
          const againPid = (await again.query('select pg_backend_pid() as pid')).rows[0].pid as number;
          expect(againPid).not.toBe(pid);
        } finally {
          // released even when the dead client came back, so end() does not wait for it
          again.release!();
        }
        const viaQuery = (await pool.query('select pg_backend_pid() as pid')).rows[0].pid as number;
        expect(viaQuery).not.toBe(pid);
      }
      await expect.poll(() => removed.length).toBe(3);
    } finally {
      await pool.end();
    }
  }, 60_000);

  it('an ordinary error through conn.raw (a syntax error) leaves the connection in service', async () => {
    const pool = createPool(pg(PG_URL), { size: 1, maxOverflow: 0, telemetry: false });
    try {
      const first = await pool.use(async (conn) => {
        const error = await conn.raw.query('selec 1').then(
          () => undefined,
          (e: { code?: string }) => e,
        );
        expect(error?.code).toBe('42601');
        return conn.pid;
      });
      const second = await pool.use(async (conn) => {
        expect((await conn.raw.query('select 1 as one')).rows[0].one).toBe(1);
        return conn.pid;
      });
      expect(second).toBe(first);
    } finally {
      await pool.close();
    }
  });
});
