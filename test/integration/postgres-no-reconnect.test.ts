/**
 * The trap: postgres.js silently reconnects on the next query after its socket
 * closed, and replays the queries queued at that moment on the new backend. In a
 * pool that means an unpooled, uncounted connection (and a query run twice on
 * two backends for a caller that saw an error). The driver must fail fast instead.
 *
 * Every connection goes through a TCP proxy, so "a new socket was opened" is
 * counted exactly (`accepted`), not inferred from timing.
 */
import postgresjs from 'postgres';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isDisconnectError, postgres } from '../../src/drivers/postgres/index.js';
import { adminSql, appName, backendPids, connectCtx, PG_URL, terminate } from '../support/postgres.js';
import { serverAvailable } from '../support/servers.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const up = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');

describe.skipIf(!up)('postgres driver: no silent reconnect', () => {
  let proxy: TcpProxy | undefined;
  const admin = adminSql();
  afterEach(async () => {
    await proxy?.close();
  });
  afterAll(() => admin.end({ timeout: 1 }));

  it('control: plain postgres.js (max 1) does reconnect behind your back — the behaviour the driver must prevent', async () => {
    proxy = await startTcpProxy({ targetPort: Number(new URL(PG_URL).port) });
    const sql = postgresjs(proxy.url(PG_URL), { max: 1, onnotice: () => {} });
    try {
      await sql`select 1`;
      expect(proxy.stats().accepted).toBe(1);
      proxy.cutAll();
      await sql`select 1`.catch(() => {});
      await sql`select 1`; // succeeds on a brand-new socket
      expect(proxy.stats().accepted).toBe(2);
    } finally {
      await sql.end({ timeout: 1 });
    }
  });

  it('after the backend is killed, later queries on the connection fail fast and no socket is opened', async () => {
    proxy = await startTcpProxy({ targetPort: Number(new URL(PG_URL).port) });
    const application = appName('noreconnect');
    const driver = postgres(proxy.url(PG_URL), { applicationName: application });
    const dead: unknown[] = [];
    const conn = await driver.connect(connectCtx({ onDead: (e) => dead.push(e) }));
    try {
      expect(await terminate(admin, conn.pid)).toBe(true);
      await expect.poll(() => dead.length, { timeout: 3000 }).toBe(1);
      expect(driver.isAlive!(conn)).toBe(false);
      expect(isDisconnectError(dead[0])).toBe(true);

      const started = performance.now();
      const attempts: (() => PromiseLike<unknown>)[] = [
        () => conn.sql`select 1`,
        () => conn.query('select $1::int', [1]),
        () => conn.raw`select 2`,
        () => conn.raw.unsafe('select 3'),
        () => driver.begin!(conn, {}),
      ];
      for (const attempt of attempts) {
        const error = await Promise.resolve()
          .then(attempt)
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect(error, 'a query on a dead connection must reject').toBeDefined();
        expect(driver.isDisconnect(error)).toBe(true);
      }
      expect(performance.now() - started).toBeLessThan(1000);
      expect(await driver.ping(conn)).toBe(false);
      expect(proxy.stats().accepted).toBe(1);
      expect(await backendPids(admin, application)).toEqual([]);
    } finally {
      await driver.close(conn);
    }
  });

  it('queries queued when the socket dies are rejected, never replayed on a new backend', async () => {
    proxy = await startTcpProxy({ targetPort: Number(new URL(PG_URL).port) });
    const driver = postgres(proxy.url(PG_URL));
    const conn = await driver.connect(connectCtx());
    try {
      // A long one in flight, then parameterized ones: postgres.js pipelines some and queues the rest.
      const inFlight = conn.sql`select pg_sleep(5)`.then(
        () => 'ok',
        (e: unknown) => e,
      );
      const queued = Array.from({ length: 30 }, (_, i) =>
        conn.sql`select ${i}::int as i`.then(
          () => 'ok',
          (e: unknown) => e,
        ),
      );
      await new Promise((r) => setTimeout(r, 50));
      proxy.cutAll({ reset: true });
      const results = await Promise.all([inFlight, ...queued]);
      for (const r of results) {
        expect(r).not.toBe('ok');
        expect(driver.isDisconnect(r)).toBe(true);
      }
      expect(driver.isAlive!(conn)).toBe(false);
      expect(proxy.stats().accepted).toBe(1);
    } finally {
      await driver.close(conn);
    }
  });
});

describe.skipIf(!up)('postgres driver: a connection cut during the handshake', () => {
  it('cut while postgres.js fetches array types: a ConnectError, no unhandled rejection, no reconnect', async () => {
    const proxy = await startTcpProxy({ targetPort: Number(new URL(PG_URL).port) });
    try {
      const driver = postgres(proxy.url(PG_URL), { fetchTypes: true });
      proxy.cutWhen((dir, chunk) => dir === 'up' && chunk.includes('pg_catalog.pg_type'));
      const error = await driver.connect(connectCtx({ timeoutMs: 3000 })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).name).toBe('ConnectError');
      expect(proxy.stats().accepted).toBe(1);
      // give postgres.js every chance to reject its internal query (setup.ts would fail this test)
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      await proxy.close();
    }
  });

  it('cut right after the startup answer, before the first query completes: same', async () => {
    const proxy = await startTcpProxy({ targetPort: Number(new URL(PG_URL).port) });
    try {
      const driver = postgres(proxy.url(PG_URL), { fetchTypes: false });
      proxy.cutWhen((dir, chunk) => dir === 'up' && chunk.includes('select 1'));
      const error = await driver.connect(connectCtx({ timeoutMs: 3000 })).catch((e: unknown) => e);
      expect((error as Error).name).toBe('ConnectError');
      expect(proxy.stats().accepted).toBe(1);
    } finally {
      await proxy.close();
    }
  });
});
