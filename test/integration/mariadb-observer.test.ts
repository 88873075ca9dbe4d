/**
 * Query instrumentation hooks of the mariadb driver: every query path opens a
 * scope right before sending (synchronously, in the caller's context) and ends
 * it once when it settles; transaction control goes through the same path; no
 * observer means the plain connection class (nothing paid per query).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MariadbConnection, mariadb } from '../../src/drivers/mariadb/index.js';
import {
  ObservedMariadbConnection,
  PlainMariadbConnection,
} from '../../src/drivers/mariadb/mariadb-connection.js';
import { directContext, recordingObserver } from '../support/mariadb-admin.js';
import { MARIADB_URL, serverAvailable } from '../support/servers.js';

const available = await serverAvailable('MariaDB', MARIADB_URL, 'MARIADB_URL');

describe.skipIf(!available)('mariadb driver: query observer', () => {
  const driver = mariadb(MARIADB_URL);
  const observer = recordingObserver();
  let conn: MariadbConnection;

  beforeAll(async () => {
    conn = await driver.connect({ ...directContext({ observer }), connectionId: 77 });
  });

  afterAll(async () => {
    if (conn) await driver.close(conn);
  });

  const take = () => observer.queries.splice(0);

  it('without an observer the connection is the plain class', async () => {
    const plain = await driver.connect(directContext());
    expect(plain).toBeInstanceOf(PlainMariadbConnection);
    expect(plain).not.toBeInstanceOf(ObservedMariadbConnection);
    expect(conn).toBeInstanceOf(ObservedMariadbConnection);
    await driver.close(plain);
  });

  it('query: start is called synchronously before sending, end once with no error', async () => {
    take();
    const pending = conn.query('SELECT ? AS v', ['x']);
    expect(observer.queries).toHaveLength(1);
    expect(observer.queries[0].ended).toBe(false);
    await pending;
    const [q] = take();
    expect(q.info).toEqual({ text: 'SELECT ? AS v' });
    expect(q.ended).toBe(true);
    expect(q.error).toBeUndefined();
    expect(q.connectionId).toBe(77);
    expect(q.system).toBe(/mariadb/i.test(conn.serverVersion) ? 'mariadb' : 'mysql');
  });

  it('a query without values is flagged unparameterized; parameter values never reach the observer', async () => {
    take();
    await conn.query('SELECT 1');
    await conn.execute('SELECT ? AS secret', ['hunter2']);
    const [plain, exec] = take();
    expect(plain.info).toEqual({ text: 'SELECT 1', unparameterized: true });
    expect(exec.info).toEqual({ text: 'SELECT ? AS secret' });
    expect(JSON.stringify(exec)).not.toContain('hunter2');
  });

  it('execute and batch report text and batch size; the object form reports its sql', async () => {
    take();
    await conn.query('CREATE TEMPORARY TABLE obs_t (id INT)');
    await conn.batch('INSERT INTO obs_t (id) VALUES (?)', [[1], [2], [3]]);
    await conn.batch('INSERT INTO obs_t (id) VALUES (?)', [[4]]);
    await conn.execute({ sql: 'SELECT COUNT(*) AS n FROM obs_t WHERE id > ?' }, [0]);
    const [, many, one, exec] = take();
    expect(many.info).toEqual({ text: 'INSERT INTO obs_t (id) VALUES (?)', batchSize: 3 });
    expect(one.info).toEqual({ text: 'INSERT INTO obs_t (id) VALUES (?)' });
    expect(exec.info.text).toBe('SELECT COUNT(*) AS n FROM obs_t WHERE id > ?');
    expect(exec.info.unparameterized).toBeUndefined();
    await conn.query({ sql: 'SELECT ? AS v', values: [1] } as never);
    const [objectForm] = take();
    expect(objectForm.info).toEqual({ text: 'SELECT ? AS v' });
    await conn.query('DROP TEMPORARY TABLE obs_t');
  });

  it('a failing query ends its scope with the error', async () => {
    take();
    const error = await conn.query('SELECT * FROM no_such_table_obs').catch((e: unknown) => e);
    const [q] = take();
    expect(q.ended).toBe(true);
    expect(q.error).toBe(error);
    expect((error as { errno?: number }).errno).toBe(1146);
  });

  it('begin / commit / rollback go through the observed path with their operation names', async () => {
    take();
    await driver.begin!(conn, { isolation: 'read committed', readOnly: true });
    await driver.commit!(conn);
    await driver.begin!(conn, {});
    await driver.rollback!(conn);
    const ops = take();
    expect(ops.map((q) => q.info.operation)).toEqual(['BEGIN', 'COMMIT', 'BEGIN', 'ROLLBACK']);
    expect(ops[0].info.text).toBe(
      'SET TRANSACTION ISOLATION LEVEL READ COMMITTED; START TRANSACTION READ ONLY',
    );
    expect(ops[1].info.text).toBe('COMMIT');
    expect(ops[2].info.text).toBe('START TRANSACTION');
    expect(ops[3].info.text).toBe('ROLLBACK');
    expect(ops.every((q) => q.ended && q.error === undefined)).toBe(true);
  });

  it('an unknown isolation level is refused before anything is sent', async () => {
    take();
    const error = await driver.begin!(conn, { isolation: 'chaos' as never }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(take()).toHaveLength(0);
    expect(conn.inTransaction).toBe(false);
  });

  it('reset costs nothing when no transaction is open, and rolls back (observed) when one is', async () => {
    take();
    // synchronous nothing: the pool's check-in stays on its fast path
    expect(driver.reset!(conn)).toBeUndefined();
    expect(take()).toHaveLength(0);
    await conn.query('START TRANSACTION');
    expect(conn.inTransaction).toBe(true);
    take();
    await driver.reset!(conn);
    const ops = take();
    expect(ops.map((q) => q.info.operation)).toEqual(['ROLLBACK']);
    expect(conn.inTransaction).toBe(false);
  });

  it('resetConnection: COM_RESET_CONNECTION clears session state (user variables, temporary tables)', async () => {
    const resetting = mariadb(MARIADB_URL, { resetConnection: true });
    const c = await resetting.connect(directContext());
    try {
      await c.query('SET @leak = 42');
      await c.query('CREATE TEMPORARY TABLE leak_t (id INT)');
      await resetting.reset!(c);
      const [row] = await c.query('SELECT @leak AS v');
      expect(row.v).toBeNull();
      const error = await c.query('SELECT * FROM leak_t').catch((e: unknown) => e);
      expect((error as { errno?: number }).errno).toBe(1146);
    } finally {
      await resetting.close(c);
    }
  });
});
