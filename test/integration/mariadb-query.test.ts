/**
 * The mariadb driver against a real MariaDB: one physical connection per pooled
 * connection, query / execute / batch with parameters sent apart from the SQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mariadb } from '../../src/drivers/mariadb/index.js';
import { createPool, type Pool } from '../../src/index.js';
import { adminConnection, createTestUser, sessionsOf } from '../support/mariadb-admin.js';
import { MARIADB_URL, serverAvailable } from '../support/servers.js';

const available = await serverAvailable('MariaDB', MARIADB_URL, 'MARIADB_URL');

describe.skipIf(!available)('mariadb driver: queries', () => {
  type Conn = ReturnType<typeof mariadb> extends { connect(...a: never[]): Promise<infer C> } ? C : never;
  let pool: Pool<Conn>;
  const table = `cistern_query_${process.pid}`;

  beforeAll(async () => {
    pool = createPool(mariadb(MARIADB_URL), { size: 2, maxOverflow: 0, telemetry: false });
    await pool.use((c) =>
      c.query(`CREATE OR REPLACE TABLE ${table} (id INT PRIMARY KEY, name VARCHAR(200))`),
    );
  });

  afterAll(async () => {
    await pool?.use((c) => c.query(`DROP TABLE IF EXISTS ${table}`));
    await pool?.close();
  });

  it('describes its target and learns the server kind from the version string', async () => {
    const driver = mariadb(MARIADB_URL);
    expect(driver.name).toBe('mariadb');
    const u = new URL(MARIADB_URL);
    expect(driver.target).toMatchObject({ host: u.hostname, port: Number(u.port || 3306), database: 'test' });
    const version = await pool.use(async (c) => {
      expect(c.system).toBe(/mariadb/i.test(c.serverVersion) ? 'mariadb' : 'mysql');
      return c.serverVersion;
    });
    expect(pool.driver.target.system).toBe(/mariadb/i.test(version) ? 'mariadb' : 'mysql');
  });

  it('query, execute and batch reach the server over one connection each', async () => {
    await pool.use(async (c) => {
      const [row] = await c.query('SELECT CONNECTION_ID() AS id, 1 + ? AS two', [1]);
      expect(Number(row.id)).toBe(c.threadId);
      expect(Number(row.two)).toBe(2);
      const [prepared] = await c.execute('SELECT ? * 2 AS v', [21]);
      expect(Number(prepared.v)).toBe(42);
      const res = await c.batch(`INSERT INTO ${table} (id, name) VALUES (?, ?)`, [
        [1, 'a'],
        [2, 'b'],
        [3, 'c'],
      ]);
      expect(Number((res as { affectedRows: number }).affectedRows)).toBe(3);
      const rows = await c.query(`SELECT id, name FROM ${table} ORDER BY id`);
      expect(rows.map((r: { name: string }) => r.name)).toEqual(['a', 'b', 'c']);
      expect(c.raw.threadId).toBe(c.threadId);
    });
  });

  it('sends values apart from the SQL: quotes, backslashes and SQL round-trip intact', async () => {
    const nasty = `O'Brien"; DROP TABLE ${table}; -- \\' \\\\ \u0000 ✓`;
    await pool.use(async (c) => {
      await c.query(`INSERT INTO ${table} (id, name) VALUES (?, ?)`, [10, nasty]);
      const [viaQuery] = await c.query(`SELECT name FROM ${table} WHERE id = ?`, [10]);
      expect(viaQuery.name).toBe(nasty);
      await c.execute(`INSERT INTO ${table} (id, name) VALUES (?, ?)`, [11, nasty]);
      const [viaExecute] = await c.execute(`SELECT name FROM ${table} WHERE name = ? AND id = ?`, [
        nasty,
        11,
      ]);
      expect(viaExecute.name).toBe(nasty);
      await c.batch(`INSERT INTO ${table} (id, name) VALUES (?, ?)`, [
        [12, nasty],
        [13, nasty],
      ]);
      const [count] = await c.query(`SELECT COUNT(*) AS n FROM ${table} WHERE name = ?`, [nasty]);
      expect(Number(count.n)).toBe(4);
      const [exists] = await c.query(
        'SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = ? AND table_name = ?',
        ['test', table],
      );
      expect(Number(exists.n)).toBe(1);
    });
  });

  it('never puts a parameter value into an error message (logParam forced off)', async () => {
    const secret = `s3cr3t-${process.pid}-value`;
    const errors: unknown[] = [];
    await pool.use(async (c) => {
      // duplicate key: the server error quotes the key, so use a non-unique secret in another column
      await c
        .query(`SELECT * FROM no_such_table_${process.pid} WHERE name = ?`, [secret])
        .catch((e) => errors.push(e));
      await c
        .execute(`SELECT * FROM no_such_table_${process.pid} WHERE name = ?`, [secret])
        .catch((e) => errors.push(e));
      await c
        .batch(`INSERT INTO no_such_table_${process.pid} (name) VALUES (?)`, [[secret], [secret]])
        .catch((e) => errors.push(e));
      // a parse error in the connector itself (more placeholders than values)
      await c.query('SELECT ?, ? AS v', [secret]).catch((e) => errors.push(e));
    });
    expect(errors).toHaveLength(4);
    for (const error of errors) {
      const text = `${(error as Error).message}\n${(error as Error).stack}\n${JSON.stringify(error)}`;
      expect(text).not.toContain(secret);
      expect((error as Error).message).toMatch(/no_such_table|Parameter|parameter/);
    }
  });

  it('a value containing a placeholder-looking "?" is not expanded', async () => {
    await pool.use(async (c) => {
      const [row] = await c.query('SELECT ? AS a, ? AS b', ['?', "'?'"]);
      expect(row).toEqual({ a: '?', b: "'?'" });
    });
  });

  it('opens exactly one server session per pooled connection', async () => {
    const admin = await adminConnection();
    // a user of its own, so sessions opened by anything else on the server never count
    const testUser = await createTestUser(admin, 'cistern_sessions');
    try {
      const p = createPool(mariadb(testUser.url), { size: 3, maxOverflow: 0, minIdle: 3, telemetry: false });
      await p.ready();
      const ids = await Promise.all([1, 2, 3].map(() => p.use(async (c) => c.threadId)));
      const after = await sessionsOf(admin, testUser.user);
      expect(after.sort()).toEqual([...new Set(ids)].sort());
      expect(after).toHaveLength(3);
      await p.close();
    } finally {
      await testUser.drop();
      await admin.end();
    }
  });
});
