/**
 * Sessions killed from the server side: while idle (caught before the next
 * checkout) and mid-query (a clear error, the connection invalidated, the next
 * caller served). The connector throws an uncaught exception on such a close
 * when nobody listens for 'error'; test/support/setup.ts fails any test that
 * leaks one.
 */
import type { Connection } from 'mariadb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MariadbConnection, mariadb } from '../../src/drivers/mariadb/index.js';
import { createPool } from '../../src/index.js';
import { adminConnection, directContext, eventually, kill } from '../support/mariadb-admin.js';
import { MARIADB_URL, serverAvailable } from '../support/servers.js';

const available = await serverAvailable('MariaDB', MARIADB_URL, 'MARIADB_URL');

async function runningQuery(admin: Connection, threadId: number): Promise<boolean> {
  const rows = await admin.query('SELECT info FROM information_schema.processlist WHERE id = ?', [threadId]);
  return rows.length === 1 && typeof rows[0].info === 'string' && rows[0].info.includes('SLEEP');
}

describe.skipIf(!available)('mariadb driver: killed sessions', () => {
  let admin: Connection;

  beforeAll(async () => {
    admin = await adminConnection();
  });

  afterAll(async () => {
    await admin?.end();
  });

  it('a connection KILLed while idle reports itself dead (onDead), without an uncaught exception', async () => {
    const driver = mariadb(MARIADB_URL);
    const ctx = directContext();
    const conn = await driver.connect(ctx);
    expect(driver.isAlive?.(conn)).toBe(true);
    await kill(admin, conn.threadId);
    const dead = await eventually(
      async () => ctx.dead.length,
      (n) => n > 0,
    );
    expect(dead).toBe(1);
    expect(driver.isDisconnect(ctx.dead[0])).toBe(true);
    expect(driver.isAlive?.(conn)).toBe(false);
    expect(await driver.ping(conn)).toBe(false);
    const error = await conn.query('SELECT 1').catch((e: unknown) => e);
    expect(driver.isDisconnect(error)).toBe(true);
    await expect(driver.close(conn)).resolves.toBeUndefined();
  });

  it('a connection dropped by the server (wait_timeout) while idle reports itself dead', async () => {
    const driver = mariadb(MARIADB_URL);
    const ctx = directContext();
    const conn = await driver.connect(ctx);
    await conn.query('SET SESSION wait_timeout = 1');
    const dead = await eventually(
      async () => ctx.dead.length,
      (n) => n > 0,
      8000,
    );
    expect(dead).toBe(1);
    expect(driver.isDisconnect(ctx.dead[0])).toBe(true);
    expect(driver.isAlive?.(conn)).toBe(false);
    await expect(driver.close(conn)).resolves.toBeUndefined();
  });

  it('pre-ping: the pool never hands out a connection KILLed while idle', async () => {
    const pool = createPool(mariadb(MARIADB_URL), {
      size: 2,
      maxOverflow: 0,
      prePing: true,
      prePingWindowMs: 0,
      telemetry: false,
    });
    const closes: string[] = [];
    pool.on('close', ({ reason }) => closes.push(reason));
    try {
      const first = await pool.use(async (c) => c.threadId);
      await kill(admin, first);
      const [second, value] = await pool.use(async (c) => {
        const [row] = await c.query('SELECT 41 + 1 AS v');
        return [c.threadId, Number(row.v)] as const;
      });
      expect(second).not.toBe(first);
      expect(value).toBe(42);
      expect(closes.length).toBeGreaterThan(0);
    } finally {
      await pool.close();
    }
  });

  it('ping detects a connection whose death the connector has not seen yet', async () => {
    const driver = mariadb(MARIADB_URL);
    const ctx = directContext();
    const conn = await driver.connect(ctx);
    // a KILL right before the ping: whichever comes first (the close event or the ping), it is not alive
    await kill(admin, conn.threadId);
    const alive = await driver.ping(conn).then(
      (ok) => ok !== false,
      () => false,
    );
    expect(alive).toBe(false);
    await driver.close(conn);
  });

  it('KILL mid-query: the caller gets a disconnect error, the connection is invalidated, the next caller is served', async () => {
    const pool = createPool(mariadb(MARIADB_URL), { size: 1, maxOverflow: 0, telemetry: false });
    const invalidated: unknown[] = [];
    pool.on('invalidate', ({ error }) => invalidated.push(error));
    try {
      let victim = -1;
      const slow = pool
        .use(async (c: MariadbConnection) => {
          victim = c.threadId;
          return c.query('SELECT SLEEP(5) AS s');
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      // a second caller queued behind the killed one
      const next = pool.use(async (c) => {
        const [row] = await c.query('SELECT CONNECTION_ID() AS id');
        return Number(row.id);
      });
      await eventually(
        async () => victim > 0 && (await runningQuery(admin, victim)),
        (running) => running,
      );
      await kill(admin, victim);
      const error = await slow;
      expect(error).toBeInstanceOf(Error);
      expect(pool.driver.isDisconnect(error)).toBe(true);
      expect([1927, 45009, 45013]).toContain((error as { errno?: number }).errno);
      const servedBy = await next;
      expect(servedBy).not.toBe(victim);
      expect(invalidated.length).toBeGreaterThan(0);
      expect(pool.stats().size).toBeLessThanOrEqual(1);
    } finally {
      await pool.close();
    }
  });

  it('KILL QUERY interrupts the statement only: not a disconnect, the same session serves again', async () => {
    const pool = createPool(mariadb(MARIADB_URL), { size: 1, maxOverflow: 0, telemetry: false });
    try {
      let victim = -1;
      const slow = pool
        .use(async (c) => {
          victim = c.threadId;
          return c.query('SELECT SLEEP(5) AS s');
        })
        .catch((e: unknown) => e);
      await eventually(
        async () => victim > 0 && (await runningQuery(admin, victim)),
        (running) => running,
      );
      await admin.query(`KILL QUERY ${victim}`);
      // SLEEP() returns 1 when interrupted; a longer statement would fail with 1317
      const result = await slow;
      if (result instanceof Error) {
        expect((result as { errno?: number }).errno).toBe(1317);
        expect(pool.driver.isDisconnect(result)).toBe(false);
      }
      const again = await pool.use(async (c) => c.threadId);
      expect(again).toBe(victim);
    } finally {
      await pool.close();
    }
  });
});
