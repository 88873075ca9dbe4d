/**
 * A backend killed, or a connection cut, at each step of the postgres.js handshake
 * (issue 9.1). A TCP proxy holds the server's messages from one step on
 * (`holdMessage`), the backend is terminated from the server side
 * (`pg_terminate_backend`, found by the proxy's own client port), then the held
 * messages and the FATAL arrive together, the way a real kill lands between two
 * reads. Each time: the caller gets a ConnectError, nothing is unhandled
 * (test/support/setup.ts fails the test on an unhandled rejection), postgres.js
 * opens no second socket, and the proxy ends with no connection open.
 *
 * The original crash: the startup ReadyForQuery and the FATAL in one chunk; postgres.js 3
 * then handled the FATAL while no query was active, which cleared its `initial` state,
 * and its un-awaited array-types query rejected with nobody listening.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { postgres } from '../../src/drivers/postgres/index.js';
import { ConnectError } from '../../src/pool/errors.js';
import { adminSql, backendByClientPort, connectCtx, PG_URL, POSTGRES_MAJOR } from '../support/postgres.js';
import { serverAvailable } from '../support/servers.js';
import { type ProxyMessage, startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const up = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');

/** Where to hold the server's answer: the handshake steps, in the order they happen. */
const STEPS: Array<{
  step: string;
  fetchTypes: boolean;
  match: () => (m: ProxyMessage) => boolean;
  /**
   * The held answer completes the handshake before the FATAL: the connect succeeds, then the
   * connection is dead. 'either': it depends on whether the handshake's `select 1` was already
   * answered in what was held (postgres.js 4 pipelines it behind the array-types query when
   * the types query is still in flight as it is sent).
   */
  opensThenDies?: boolean | 'either';
}> = [
  { step: 'authentication (AuthenticationOk)', fetchTypes: true, match: () => (m) => m.type === 'R' },
  { step: 'parameter status', fetchTypes: true, match: () => (m) => m.type === 'S' },
  { step: 'backend key data', fetchTypes: true, match: () => (m) => m.type === 'K' },
  {
    step: 'startup ReadyForQuery (the crash of issue 9.1)',
    fetchTypes: true,
    match: () => (m) => m.type === 'Z',
  },
  {
    step: 'startup ReadyForQuery, fetchTypes false',
    fetchTypes: false,
    match: () => (m) => m.type === 'Z',
  },
  // postgres.js 4 may pipeline the handshake's `select 1` behind its array-types query: then both
  // answers are in what is held, and the connect completes before the FATAL is read
  {
    step: 'the first query (array types)',
    fetchTypes: true,
    match: () => (m) => m.type === 'T',
    opensThenDies: POSTGRES_MAJOR === 4 ? 'either' : false,
  },
  {
    step: "the first query's ReadyForQuery",
    fetchTypes: true,
    opensThenDies: POSTGRES_MAJOR === 4 ? 'either' : false,
    match: () => {
      let z = 0;
      return (m) => m.type === 'Z' && ++z === 2;
    },
  },
  {
    step: 'the first query (select 1), fetchTypes false',
    fetchTypes: false,
    match: () => (m) => m.type === 'T',
    opensThenDies: true,
  },
];

/** Let postgres.js run every callback it still has (a late rejection would show up here). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 20));
}

describe.skipIf(!up)('postgres driver: backend killed or connection cut at each handshake step', () => {
  const admin = adminSql();
  let proxy: TcpProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });
  afterAll(() => admin.end({ timeout: 1 }));

  const backendOf = (clientPort: number): Promise<number> => backendByClientPort(admin, clientPort);

  for (const { step, fetchTypes, match, opensThenDies } of STEPS) {
    const outcome =
      opensThenDies === 'either'
        ? 'ConnectError or opens then dead'
        : opensThenDies
          ? 'opens, then is dead'
          : 'ConnectError (57P01)';
    it(`killed at ${step}: ${outcome}, nothing unhandled, no second socket`, async () => {
      proxy = await startTcpProxy({ targetPort: Number(new URL(PG_URL).port) });
      const hold = proxy.holdMessage('pg', match());
      const driver = postgres(proxy.url(PG_URL), { fetchTypes });
      let dead: unknown;
      const ctx = connectCtx({ timeoutMs: 5000, onDead: (e) => (dead = e ?? 'dead') });
      const connecting = driver.connect(ctx).then(
        (conn) => conn,
        (e: unknown) => e,
      );
      await hold.held;
      const pid = await backendOf(hold.upstreamPort);
      const [row] = await admin<{ ok: boolean }[]>`select pg_terminate_backend(${pid}) as ok`;
      expect(row?.ok).toBe(true);
      await hold.upstreamClosed;
      await hold.release();
      const result = await connecting;
      await settle();
      if (opensThenDies === true || (opensThenDies === 'either' && !(result instanceof ConnectError))) {
        expect(driver.isAlive?.(result as never)).toBe(false);
        expect(dead).toBeDefined();
        await driver.close(result as never);
      } else {
        expect(result).toBeInstanceOf(ConnectError);
        expect((result as Error).message).toMatch(/57P01|terminat|closed/i);
      }
      expect(proxy.stats().accepted).toBe(1);
      expect(proxy.stats().open).toBe(0);
    });

    it(`cut (RST) at ${step}: ConnectError, nothing unhandled, no second socket`, async () => {
      proxy = await startTcpProxy({ targetPort: Number(new URL(PG_URL).port) });
      const hold = proxy.holdMessage('pg', match());
      const driver = postgres(proxy.url(PG_URL), { fetchTypes });
      const connecting = driver.connect(connectCtx({ timeoutMs: 5000 })).then(
        () => undefined,
        (e: unknown) => e,
      );
      await hold.held;
      proxy.cutAll({ reset: true });
      const error = await connecting;
      expect(error).toBeInstanceOf(ConnectError);
      await settle();
      expect(proxy.stats().accepted).toBe(1);
      expect(proxy.stats().open).toBe(0);
    });
  }

  it('the pool: a kill at the startup ReadyForQuery fails that caller with a ConnectError, the next is served', async () => {
    const { createPool } = await import('../../src/index.js');
    proxy = await startTcpProxy({ targetPort: Number(new URL(PG_URL).port) });
    const hold = proxy.holdMessage('pg', (m) => m.type === 'Z');
    const pool = createPool(postgres(proxy.url(PG_URL)), { size: 1, maxOverflow: 0, telemetry: false });
    try {
      const failed: unknown[] = [];
      pool.on('connectFailed', ({ error }) => failed.push(error));
      const first = pool.use((c) => c.sql`select 1 as x`);
      await hold.held;
      await admin`select pg_terminate_backend(${await backendOf(hold.upstreamPort)})`;
      await hold.upstreamClosed;
      await hold.release();
      await expect(first).rejects.toBeInstanceOf(ConnectError);
      expect(failed).toHaveLength(1);
      expect(failed[0]).toBeInstanceOf(ConnectError);
      expect(await pool.use((c) => c.sql`select 1 as x`)).toEqual([{ x: 1 }]);
      await settle();
      expect(proxy.stats().accepted).toBe(2);
    } finally {
      await pool.close();
    }
  });
});
