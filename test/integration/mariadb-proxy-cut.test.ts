/**
 * A proxy that cuts every connection, busy or idle, FIN or RST: no crash, every
 * caller settles, dead connections are never handed out again, and the pool
 * serves again once the network is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MariadbConnection, mariadb } from '../../src/drivers/mariadb/index.js';
import { createPool, isPoolError } from '../../src/index.js';
import { eventually } from '../support/mariadb-admin.js';
import { MARIADB_URL, serverAvailable } from '../support/servers.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const available = await serverAvailable('MariaDB', MARIADB_URL, 'MARIADB_URL');

describe.skipIf(!available)('mariadb driver: a proxy cutting every connection', () => {
  let proxy: TcpProxy;

  beforeAll(async () => {
    proxy = await startTcpProxy({ targetPort: Number(new URL(MARIADB_URL).port || 3306) });
  });

  afterAll(async () => {
    await proxy?.close();
  });

  it.each([false, true])(
    'cut (reset=%s) while 24 callers run on 4 connections: every caller settles',
    async (reset) => {
      proxy.pass();
      const pool = createPool(mariadb(proxy.url(MARIADB_URL)), {
        size: 4,
        maxOverflow: 0,
        acquireTimeoutMs: 10_000,
        connectTimeoutMs: 2000,
        telemetry: false,
      });
      try {
        await pool.use((c) => c.query('SELECT 1'));
        const calls = Array.from({ length: 24 }, (_, i) =>
          pool.use(async (c: MariadbConnection) => {
            await c.query('SELECT SLEEP(0.3) AS s, ? AS i', [i]);
            return c.threadId;
          }),
        );
        await eventually(
          async () => pool.stats().used,
          (n) => n === 4,
        );
        const cut = proxy.cutAll({ reset });
        expect(cut).toBeGreaterThanOrEqual(4);
        const outcomes = await Promise.allSettled(calls);
        expect(outcomes).toHaveLength(24);
        const failures = outcomes
          .filter((o) => o.status === 'rejected')
          .map((o) => (o as PromiseRejectedResult).reason);
        expect(failures.length).toBeGreaterThanOrEqual(4);
        for (const error of failures) {
          expect(pool.driver.isDisconnect(error) || isPoolError(error)).toBe(true);
        }
        // the network is fine again: the pool serves on fresh connections
        const [row] = await pool.use((c) => c.query('SELECT 42 AS v'));
        expect(Number(row.v)).toBe(42);
      } finally {
        await pool.close();
      }
    },
  );

  it('idle connections cut by the network are never handed out', async () => {
    proxy.pass();
    const pool = createPool(mariadb(proxy.url(MARIADB_URL)), {
      size: 3,
      maxOverflow: 0,
      minIdle: 3,
      prePingWindowMs: 0,
      telemetry: false,
    });
    const closed: string[] = [];
    pool.on('close', ({ reason }) => closed.push(reason));
    try {
      await pool.ready();
      const before = await Promise.all([1, 2, 3].map(() => pool.use(async (c) => c.threadId)));
      expect(proxy.cutAll()).toBe(3);
      // the FIN reaches the connector, which reports each death through onDead
      await eventually(
        async () => closed.length,
        (n) => n >= 3,
      );
      const after = await Promise.all(
        [1, 2, 3].map(() =>
          pool.use(async (c) => {
            await c.query('SELECT 1');
            return c.threadId;
          }),
        ),
      );
      for (const id of after) expect(before).not.toContain(id);
    } finally {
      await pool.close();
    }
  });

  it('pre-ping: a connection whose network stalls fails its ping (pingTimeoutMs) and is replaced', async () => {
    proxy.pass();
    const pool = createPool(mariadb(proxy.url(MARIADB_URL), { pingTimeoutMs: 200 }), {
      size: 1,
      maxOverflow: 0,
      prePing: true,
      prePingWindowMs: 0,
      acquireTimeoutMs: 10_000,
      telemetry: false,
    });
    const invalidated: unknown[] = [];
    pool.on('invalidate', ({ error }) => {
      invalidated.push(error);
      // the ping failed: let the replacement connection through
      proxy.pass();
    });
    try {
      const first = await pool.use(async (c) => c.threadId);
      proxy.stall();
      // let the clock move past the last use, so the pool pings
      await new Promise((r) => setTimeout(r, 30));
      const [second, value] = await pool.use(async (c) => {
        const [row] = await c.query('SELECT 7 AS v');
        return [c.threadId, Number(row.v)] as const;
      });
      expect(value).toBe(7);
      expect(second).not.toBe(first);
      expect(invalidated.length).toBeGreaterThanOrEqual(1);
      expect(invalidated.some((e) => (e as { errno?: number }).errno === 45042)).toBe(true); // ER_PING_TIMEOUT
    } finally {
      proxy.pass();
      await pool.close();
    }
  });

  it('refusing proxy: waiting callers settle with errors, none hangs', async () => {
    proxy.refuse();
    const pool = createPool(mariadb(proxy.url(MARIADB_URL)), {
      size: 2,
      maxOverflow: 0,
      acquireTimeoutMs: 1500,
      connectTimeoutMs: 500,
      telemetry: false,
    });
    try {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 6 }, () => pool.use((c) => c.query('SELECT 1'))),
      );
      expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
      for (const o of outcomes) expect(isPoolError((o as PromiseRejectedResult).reason)).toBe(true);
    } finally {
      await pool.close();
      proxy.pass();
    }
  });

  it('pool.close() with a timeout settles a query stuck behind a stalled network', async () => {
    proxy.pass();
    const pool = createPool(mariadb(proxy.url(MARIADB_URL)), { size: 1, maxOverflow: 0, telemetry: false });
    await pool.use((c) => c.query('SELECT 1'));
    proxy.stall();
    try {
      const stuck = pool
        .use((c) => c.query('SELECT 1'))
        .then(
          () => 'resolved',
          (e: unknown) => e,
        );
      await eventually(
        async () => pool.stats().used,
        (n) => n === 1,
      );
      await pool.close({ timeoutMs: 200 });
      const outcome = await stuck;
      expect(outcome).toBeInstanceOf(Error);
      expect(pool.driver.isDisconnect(outcome)).toBe(true);
    } finally {
      proxy.pass();
    }
  });
});
