/**
 * Faults through the pool: a backend killed while idle or mid-query, and a proxy
 * that cuts every connection while callers are busy. Every caller settles, no
 * fault takes the process down (test/support/setup.ts fails the run on any
 * uncaught exception or unhandled rejection), and the pool serves again after.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { type PgConnection, postgres } from '../../src/drivers/postgres/index.js';
import { createPool, type Pool } from '../../src/index.js';
import { adminSql, appName, backendPids, PG_URL, terminate } from '../support/postgres.js';
import { serverAvailable } from '../support/servers.js';
import { startTcpProxy } from '../support/tcp-proxy.js';

const up = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');

async function pidOf(pool: Pool<PgConnection>): Promise<number> {
  return pool.use(async (c) => {
    const [row] = await c.sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
    return row!.pid;
  });
}

describe.skipIf(!up)('postgres through the pool: faults', () => {
  const admin = adminSql();
  afterAll(() => admin.end({ timeout: 1 }));

  it('a backend killed while idle is never handed out: the next caller gets a new backend, no error', async () => {
    const application = appName('idle-kill');
    const pool = createPool(postgres(PG_URL, { applicationName: application }), {
      telemetry: false,
      size: 1,
      maxOverflow: 0,
      prePing: true,
      prePingWindowMs: 0,
    });
    const closes: string[] = [];
    pool.on('close', (e) => closes.push(e.reason));
    try {
      const first = await pidOf(pool);
      expect(await terminate(admin, first)).toBe(true);
      const second = await pidOf(pool);
      expect(second).not.toBe(first);
      expect(await backendPids(admin, application)).toEqual([second]);
      expect(closes.length).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it('pre-ping catches a connection that died without the client noticing (half-open via a stalled proxy)', async () => {
    const proxy = await startTcpProxy({ targetPort: Number(new URL(PG_URL).port) });
    const pool = createPool(postgres(proxy.url(PG_URL)), {
      telemetry: false,
      size: 1,
      maxOverflow: 0,
      prePing: true,
      prePingWindowMs: 0,
      acquireTimeoutMs: 10_000,
    });
    try {
      const first = await pidOf(pool);
      // The server side goes away, but the client's socket stays open and silent.
      proxy.stall();
      expect(await terminate(admin, first)).toBe(true);
      proxy.cutAll();
      proxy.pass();
      const second = await pidOf(pool);
      expect(second).not.toBe(first);
    } finally {
      await pool.close();
      await proxy.close();
    }
  });

  it('pre-ping on a connection that stopped answering times out, and the caller is served by a new connection', async () => {
    const proxy = await startTcpProxy({ targetPort: Number(new URL(PG_URL).port) });
    const pool = createPool(postgres(proxy.url(PG_URL)), {
      telemetry: false,
      size: 1,
      maxOverflow: 0,
      prePing: true,
      prePingWindowMs: 0,
      connectTimeoutMs: 300,
      acquireTimeoutMs: 10_000,
    });
    const invalidated: unknown[] = [];
    pool.on('invalidate', (e) => invalidated.push(e.error));
    try {
      const first = await pidOf(pool);
      // let the pool's coarse clock move past the pre-ping window (0 ms), so the next checkout pings
      await new Promise((r) => setTimeout(r, 50));
      proxy.stall(); // the open connection goes silent: its ping gets no answer
      const next = pidOf(pool);
      await expect.poll(() => invalidated.length, { timeout: 3000 }).toBeGreaterThanOrEqual(1);
      proxy.pass(); // new connections work again
      const second = await next;
      expect(second).not.toBe(first);
    } finally {
      await pool.close();
      await proxy.close();
    }
  });

  it('a backend killed mid-query: that caller gets a disconnect error, the connection is invalidated, the next caller is served', async () => {
    const application = appName('midquery');
    const driver = postgres(PG_URL, { applicationName: application });
    const pool = createPool(driver, { telemetry: false, size: 2, maxOverflow: 0 });
    const invalidated: unknown[] = [];
    pool.on('invalidate', (e) => invalidated.push(e.error));
    try {
      let victim = 0;
      const slow = pool.use(async (c) => {
        victim = c.pid;
        await c.sql`select pg_sleep(10)`;
      });
      const settled = slow.then(
        () => undefined,
        (e: unknown) => e,
      );
      await expect.poll(() => victim, { timeout: 3000 }).not.toBe(0);
      expect(await terminate(admin, victim)).toBe(true);
      const error = await settled;
      expect(error).toBeDefined();
      expect(driver.isDisconnect(error)).toBe(true);
      expect(['57P01', 'CONNECTION_CLOSED', 'ECONNRESET']).toContain((error as { code?: string }).code);
      const next = await pidOf(pool);
      expect(next).not.toBe(victim);
      expect(invalidated.length).toBeGreaterThanOrEqual(1);
      expect(await backendPids(admin, application)).not.toContain(victim);
    } finally {
      await pool.close();
    }
  });

  it('a proxy cutting every connection mid-use: no crash, every caller settles, the pool recovers', async () => {
    const proxy = await startTcpProxy({ targetPort: Number(new URL(PG_URL).port) });
    const driver = postgres(proxy.url(PG_URL));
    const pool = createPool(driver, {
      telemetry: false,
      size: 4,
      maxOverflow: 4,
      acquireTimeoutMs: 5000,
      connectTimeoutMs: 2000,
    });
    try {
      const deadline = performance.now() + 1500;
      const callers = Array.from({ length: 32 }, async (_, i) => {
        const outcomes = { ok: 0, failed: 0, other: 0 };
        for (let n = 0; n < 40 && performance.now() < deadline; n++) {
          try {
            await pool.use(async (c) => {
              await c.sql`select ${i}::int as i, pg_sleep(0.002)`;
              await c.query('select $1::int + 1 as n', [n]);
            });
            outcomes.ok++;
          } catch (error) {
            if (driver.isDisconnect(error) || (error as { code?: string }).code?.startsWith('POOL_'))
              outcomes.failed++;
            else outcomes.other++;
          }
        }
        return outcomes;
      });
      for (let cut = 0; cut < 5; cut++) {
        await new Promise((r) => setTimeout(r, 100));
        proxy.cutAll({ reset: cut % 2 === 0 });
      }
      const results = await Promise.all(callers);
      const total = results.reduce(
        (acc, r) => ({ ok: acc.ok + r.ok, failed: acc.failed + r.failed, other: acc.other + r.other }),
        { ok: 0, failed: 0, other: 0 },
      );
      expect(total.failed).toBeGreaterThan(0);
      expect(total.ok).toBeGreaterThan(0);
      expect(total.other).toBe(0);
      // recovered: a fresh round of work succeeds
      const after = await Promise.all(
        Array.from({ length: 8 }, (_, i) => pool.use((c) => c.query('select $1::int as i', [i]))),
      );
      expect(after.map((r) => r[0]?.i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    } finally {
      await pool.close();
      await proxy.close();
    }
  });
});
