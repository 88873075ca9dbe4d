/**
 * The pg.Pool face beyond pg-pool's own suite: `instanceof pg.Pool` for the pg the
 * user installed, bad input (min > max, a double release, a foreign connection),
 * no crash from an idle client's error without a listener, a backend killed
 * mid-query, the cistern core behind it (`pool.cistern`), `expiredCount` with a 1 s
 * lifetime (polled, no timing assertion), pg-pool's connect timeout (socket cut), and the
 * core options the face sets for pg-pool's ways (`refillMinIdle`, `connectBackoff`).
 */
import { createRequire } from 'node:module';
import net from 'node:net';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { Pool } from '../../src/drivers/pg/index.js';
import { PoolConfigError, PoolMisuseError } from '../../src/index.js';
import { adminSql, appName, PG_URL, terminate } from '../support/postgres.js';
import { serverAvailable } from '../support/servers.js';

/** pg-cursor ships no types: the slice this test calls. */
interface CursorLike {
  read(rows: number): Promise<{ n: number }[]>;
  close(): Promise<void>;
}
const Cursor = createRequire(import.meta.url)('pg-cursor') as new (text: string) => CursorLike;

const up = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');

describe.skipIf(!up)('cistern/pg Pool (the pg.Pool face)', () => {
  it('is a pg.Pool of the installed pg, with pg-pool defaults in options and the password hidden', async () => {
    const pool = new Pool({ connectionString: PG_URL, password: 'pgd-hidden', telemetry: false });
    try {
      expect(pool).toBeInstanceOf(pg.Pool);
      expect(pool.options.max).toBe(10);
      expect(pool.options.idleTimeoutMillis).toBe(10000);
      expect(Object.keys(pool.options)).not.toContain('password');
      expect(pool.cistern.options.size).toBe(10);
      expect(pool.cistern.options.idleTimeoutMs).toBe(10000);
    } finally {
      await pool.end();
    }
  });

  it("sets the core to pg-pool's ways: min not refilled, no connect backoff; cistern's keys switch them back", async () => {
    const plain = new Pool({ connectionString: PG_URL, min: 2, max: 4, telemetry: false });
    const refilled = new Pool({ connectionString: PG_URL, min: 1, refillMinIdle: true, telemetry: false });
    const custom = new Pool({
      connectionString: PG_URL,
      refillMinIdle: true,
      connectBackoff: { initialMs: 5, maxMs: 50 },
      telemetry: false,
    });
    try {
      expect(plain.cistern.options).toMatchObject({
        minIdle: 2,
        refillMinIdle: false,
        connectBackoff: false,
      });
      // a refill asked for gets the core's default backoff (no backoff with a refill is refused)
      expect(refilled.cistern.options).toMatchObject({
        minIdle: 1,
        refillMinIdle: true,
        connectBackoff: { initialMs: 100, maxMs: 2000 },
      });
      expect(custom.cistern.options.connectBackoff).toEqual({ initialMs: 5, maxMs: 50 });
      expect(() => new Pool({ min: 1, refillMinIdle: true, connectBackoff: false })).toThrow(
        /connectBackoff: got false with minIdle 1 refilled/,
      );
      await refilled.cistern.ready();
      expect(refilled.totalCount).toBe(1);
    } finally {
      await Promise.all([plain.end(), refilled.end(), custom.end()]);
    }
  });

  it('rejects only what contradicts itself', () => {
    expect(() => new Pool({ max: 2, min: 3 })).toThrow(PoolConfigError);
    expect(() => new Pool({ max: 2, min: 3 })).toThrow(
      /min: got 3, expected an integer between 0 and max \(2\)/,
    );
    expect(() => new Pool({ max: 0.5 })).toThrow(/max/);
    // client options it does not know pass through to pg.Client, as with pg-pool
    expect(() => new Pool({ some_client_option: 1, telemetry: false }).end()).not.toThrow();
  });

  it('a double release is a PoolMisuseError with pg-pool words; a foreign connection too; the pool stays intact', async () => {
    const a = new Pool({ connectionString: PG_URL, max: 1, telemetry: false });
    const b = new Pool({ connectionString: PG_URL, max: 1, telemetry: false });
    try {
      const client = await a.connect();
      client.release!();
      expect(() => client.release!()).toThrow(PoolMisuseError);
      expect(() => client.release!()).toThrow(
        'Release called on client which has already been released to the pool.',
      );
      const conn = await b.cistern.acquire();
      expect(() => a.cistern.release(conn)).toThrow(PoolMisuseError);
      b.cistern.release(conn);
      expect((await a.query('select 1 as n')).rows).toEqual([{ n: 1 }]);
      expect(a.totalCount).toBe(1);
      expect(a.idleCount).toBe(1);
    } finally {
      await a.end();
      await b.end();
    }
  });

  it("an idle client's backend killed with no 'error' listener crashes nothing; the next query gets a new backend", async () => {
    const application = appName('pgd-face-idle');
    const admin = adminSql();
    const pool = new Pool({
      connectionString: PG_URL,
      application_name: application,
      max: 1,
      telemetry: false,
    });
    const removed: unknown[] = [];
    pool.on('remove', (c) => removed.push(c));
    try {
      const first = (await pool.query('select pg_backend_pid() as pid')).rows[0].pid as number;
      expect(await terminate(admin, first)).toBe(true);
      await expect.poll(() => removed.length).toBe(1);
      expect(pool.totalCount).toBe(0);
      const second = (await pool.query('select pg_backend_pid() as pid')).rows[0].pid as number;
      expect(second).not.toBe(first);
    } finally {
      await pool.end();
      await admin.end({ timeout: 1 });
    }
  });

  it("a backend killed mid-query fails that query with pg's error and the pool serves the next one", async () => {
    const admin = adminSql();
    const pool = new Pool({ connectionString: PG_URL, max: 2, telemetry: false });
    try {
      const client = await pool.connect();
      const slow = client.query('select pg_sleep(10)').then(
        () => 'resolved',
        (e: { code?: string }) => e.code,
      );
      await new Promise((r) => setTimeout(r, 100));
      expect(await terminate(admin, client.processID!)).toBe(true);
      expect(await slow).toBe('57P01');
      client.release!();
      // the backend's FATAL marked the client dead before the socket closed: closed at its release
      expect(pool.totalCount).toBe(0);
      expect((await pool.query('select 2 as n')).rows).toEqual([{ n: 2 }]);
    } finally {
      await pool.end();
      await admin.end({ timeout: 1 });
    }
  });

  it('a client returned inside a transaction is rolled back before the next caller gets it', async () => {
    const pool = new Pool({ connectionString: PG_URL, max: 1, telemetry: false });
    try {
      const client = await pool.connect();
      await client.query('begin');
      client.release!();
      const again = await pool.connect();
      expect(again).toBe(client);
      expect(again.getTransactionStatus?.()).toBe('I');
      again.release!();
    } finally {
      await pool.end();
    }
  });

  it('pool.query with a submittable (pg-cursor) resolves to it; the client goes back when it ends', async () => {
    const pool = new Pool({ connectionString: PG_URL, max: 1, telemetry: false });
    try {
      const cursor = (await pool.query(new Cursor('select generate_series(1, 10) as n'))) as CursorLike;
      expect(pool.idleCount).toBe(0);
      const rows = await cursor.read(4);
      expect(rows.map((r) => r.n)).toEqual([1, 2, 3, 4]);
      await cursor.close();
      await expect.poll(() => pool.idleCount).toBe(1);
      expect((await pool.query('select 1 as n')).rows).toEqual([{ n: 1 }]);
    } finally {
      await pool.end();
    }
  });

  it('expiredCount counts a checked-out client past maxLifetimeSeconds; its release closes it', async () => {
    const pool = new Pool({ connectionString: PG_URL, max: 2, maxLifetimeSeconds: 1, telemetry: false });
    const removed: unknown[] = [];
    pool.on('remove', (client) => removed.push(client));
    try {
      const held = await pool.connect();
      const other = await pool.connect();
      other.release!();
      expect(pool.expiredCount).toBe(0);
      // the idle client past its lifetime is closed by the sweeper, never counted; the held one is counted
      await expect.poll(() => pool.expiredCount, { timeout: 10_000, interval: 50 }).toBe(1);
      await expect.poll(() => removed, { timeout: 10_000, interval: 50 }).toEqual([other]);
      expect(pool.expiredCount).toBe(1);
      expect((await held.query('select 1 as n')).rows).toEqual([{ n: 1 }]);
      held.release!();
      expect(pool.expiredCount).toBe(0);
      await expect.poll(() => removed, { timeout: 10_000, interval: 50 }).toEqual([other, held]);
      expect(pool.totalCount).toBe(0);
      // a new client starts a new lifetime
      const fresh = await pool.connect();
      expect(fresh).not.toBe(held);
      expect(pool.expiredCount).toBe(0);
      fresh.release!();
    } finally {
      await pool.end();
    }
  });

  it("a connect not answered within connectionTimeoutMillis is cut (socket destroyed) with pg-pool's words", async () => {
    // a server that accepts and never answers: pg waits for the startup reply forever
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    // the caller would wait 5 s: the 150 ms it gets is the connect's own timeout
    const pool = new Pool({
      host: '127.0.0.1',
      port,
      user: 'postgres',
      connectionTimeoutMillis: 150,
      acquireTimeoutMs: 5000,
      telemetry: false,
    });
    try {
      const error = await pool.connect().then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.message).toBe('Connection terminated due to connection timeout');
      expect(pool.totalCount).toBe(0);
    } finally {
      await pool.end();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
