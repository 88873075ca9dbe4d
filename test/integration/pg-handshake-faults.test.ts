/**
 * A backend killed, or a connection cut, at each step of the node-postgres handshake
 * (issue 9.1, for `cistern/pg`), on the pattern of postgres-handshake-faults.test.ts. A TCP
 * proxy holds the server's messages from one step on (`holdMessage`), the backend is
 * terminated from the server side (`pg_terminate_backend`, found by the proxy's own client
 * port), then the held messages and the FATAL arrive together, the way a real kill lands
 * between two reads. Each time: the caller gets a ConnectError, nothing is unhandled
 * (test/support/setup.ts fails the test on an unhandled rejection), pg opens no second
 * socket, and the proxy ends with no connection open.
 *
 * The steps: AuthenticationOk (R), ParameterStatus (S), BackendKeyData (K), the startup
 * ReadyForQuery (Z), the `target_session_attrs` session check query (src/drivers/pg/pg-open.ts;
 * PostgreSQL 14+ reports `in_hot_standby` at startup and then no query is sent, so the proxy
 * removes that ParameterStatus, as a PostgreSQL 13 would never send it), and the first query
 * after the connect, where the documented outcome is pg's error on the query (57P01 for a
 * kill, a disconnect either way: `driver.isDisconnect`) and a connection marked dead at once.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type PgConnection, pg } from '../../src/drivers/pg/index.js';
import { ConnectError, createPool } from '../../src/index.js';
import { adminSql, backendByClientPort, connectCtx, PG_URL } from '../support/postgres.js';
import { serverAvailable } from '../support/servers.js';
import { type ProxyMessage, startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const up = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');
const PG_PORT = Number(new URL(PG_URL).port || 5432);

/** A URL through the proxy, with `target_session_attrs` when the step needs it. */
function urlFor(proxy: TcpProxy, attrs: string | undefined): string {
  const u = new URL(proxy.url(PG_URL));
  if (attrs !== undefined) u.searchParams.set('target_session_attrs', attrs);
  return u.toString();
}

/** The ParameterStatus a PostgreSQL before 14 never sends: without it the driver must ask. */
const inHotStandby = (m: ProxyMessage): boolean =>
  m.type === 'S' && m.bytes.includes(Buffer.from('in_hot_standby\0'));

/** Where to hold the server's answer while the connection is opened: the steps, in order. */
const HANDSHAKE_STEPS: Array<{
  step: string;
  attrs?: string;
  /** Remove in_hot_standby at the proxy, so the session check is libpq's query. */
  oldServer?: boolean;
  match: () => (m: ProxyMessage) => boolean;
}> = [
  { step: 'authentication (AuthenticationOk)', match: () => (m) => m.type === 'R' },
  { step: 'parameter status', match: () => (m) => m.type === 'S' },
  { step: 'backend key data', match: () => (m) => m.type === 'K' },
  { step: 'startup ReadyForQuery', match: () => (m) => m.type === 'Z' },
  {
    step: 'startup ReadyForQuery, target_session_attrs=read-write (answered from ParameterStatus)',
    attrs: 'read-write',
    match: () => (m) => m.type === 'Z',
  },
  {
    step: 'the target_session_attrs=read-write session check query',
    attrs: 'read-write',
    oldServer: true,
    match: () => (m) => m.type === 'T',
  },
  {
    step: "the session check query's ReadyForQuery",
    attrs: 'read-write',
    oldServer: true,
    match: () => {
      let z = 0;
      return (m) => m.type === 'Z' && ++z === 2;
    },
  },
];

/** Let pg run every callback it still has (a late rejection or a late 'error' would show up here). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 20));
}

describe.skipIf(!up)('pg driver: backend killed or connection cut at each handshake step', () => {
  const admin = adminSql();
  let proxy: TcpProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });
  afterAll(() => admin.end({ timeout: 1 }));

  const backendOf = (clientPort: number): Promise<number> => backendByClientPort(admin, clientPort);

  async function kill(clientPort: number): Promise<void> {
    const pid = await backendOf(clientPort);
    const [row] = await admin<{ ok: boolean }[]>`select pg_terminate_backend(${pid}) as ok`;
    expect(row?.ok).toBe(true);
  }

  for (const { step, attrs, oldServer, match } of HANDSHAKE_STEPS) {
    it(`killed at ${step}: ConnectError (57P01), nothing unhandled, no second socket`, async () => {
      proxy = await startTcpProxy({ targetPort: PG_PORT });
      if (oldServer) proxy.dropMessages('pg', inHotStandby);
      const hold = proxy.holdMessage('pg', match());
      const driver = pg(urlFor(proxy, attrs));
      let dead: unknown;
      const ctx = connectCtx({ timeoutMs: 5000, onDead: (e) => (dead = e ?? 'dead') });
      const connecting = driver.connect(ctx).then(
        (conn) => conn,
        (e: unknown) => e,
      );
      await hold.held;
      await kill(hold.upstreamPort);
      await hold.upstreamClosed;
      await hold.release();
      const result = await connecting;
      await settle();
      if (!(result instanceof ConnectError)) await driver.close(result as PgConnection);
      expect(result).toBeInstanceOf(ConnectError);
      expect((result as Error).message).toMatch(/could not connect to postgres:\/\/.*127\.0\.0\.1/);
      expect((result as Error).message).toMatch(/57P01|terminat/i);
      // a failed connect is not a dead pooled connection: the pool hears of it by the rejection only
      expect(dead).toBeUndefined();
      expect(proxy.stats().accepted).toBe(1);
      expect(proxy.stats().open).toBe(0);
    });

    it(`cut (RST) at ${step}: ConnectError, nothing unhandled, no second socket`, async () => {
      proxy = await startTcpProxy({ targetPort: PG_PORT });
      if (oldServer) proxy.dropMessages('pg', inHotStandby);
      const hold = proxy.holdMessage('pg', match());
      const driver = pg(urlFor(proxy, attrs));
      const connecting = driver.connect(connectCtx({ timeoutMs: 5000 })).then(
        (conn) => conn,
        (e: unknown) => e,
      );
      await hold.held;
      proxy.cutAll({ reset: true });
      const result = await connecting;
      await settle();
      if (!(result instanceof ConnectError)) await driver.close(result as PgConnection);
      expect(result).toBeInstanceOf(ConnectError);
      expect(proxy.stats().accepted).toBe(1);
      expect(proxy.stats().open).toBe(0);
    });
  }

  it('the pool: a kill at the startup ReadyForQuery fails that caller with a ConnectError, the next is served', async () => {
    proxy = await startTcpProxy({ targetPort: PG_PORT });
    const hold = proxy.holdMessage('pg', (m) => m.type === 'Z');
    const pool = createPool(pg(proxy.url(PG_URL)), { size: 1, maxOverflow: 0, telemetry: false });
    try {
      const failed: unknown[] = [];
      const opened: number[] = [];
      pool.on('connectFailed', ({ error }) => failed.push(error));
      pool.on('connect', ({ connectionId }) => opened.push(connectionId));
      const first = pool.use((c) => c.query('select 1 as n'));
      await hold.held;
      await kill(hold.upstreamPort);
      await hold.upstreamClosed;
      await hold.release();
      await expect(first).rejects.toBeInstanceOf(ConnectError);
      expect(failed).toHaveLength(1);
      expect(failed[0]).toBeInstanceOf(ConnectError);
      // the dead session was never a pooled connection
      expect(opened).toHaveLength(0);
      expect((await pool.use((c) => c.query('select 1 as n'))).rows).toEqual([{ n: 1 }]);
      await settle();
      expect(proxy.stats().accepted).toBe(2);
    } finally {
      await pool.close();
    }
  });

  // the first query after the connect: pg's own error reaches the query, as documented in
  // docs/pg.md (a connection-loss error, 57P01 for a kill), and the connection is dead at once
  describe('the first query', () => {
    async function opened(hold: (p: TcpProxy) => void): Promise<{
      conn: PgConnection;
      driver: ReturnType<typeof pg>;
      dead: () => unknown;
    }> {
      proxy = await startTcpProxy({ targetPort: PG_PORT });
      const driver = pg(proxy.url(PG_URL));
      let dead: unknown;
      const conn = await driver.connect(connectCtx({ timeoutMs: 5000, onDead: (e) => (dead = e ?? 'dead') }));
      hold(proxy);
      return { conn, driver, dead: () => dead };
    }

    it('killed while it runs: the query rejects with 57P01, the connection is dead, nothing unhandled', async () => {
      let hold: ReturnType<TcpProxy['holdMessage']> | undefined;
      const { conn, driver, dead } = await opened((p) => {
        // the first server message after the startup: the kill's ErrorResponse
        hold = p.holdMessage('pg', () => true);
      });
      const querying = conn.query('select pg_sleep(30)').then(
        () => 'resolved',
        (e: unknown) => e,
      );
      // the backend is found by pid (BackendKeyData), the query is running
      const [row] = await admin<{ ok: boolean }[]>`select pg_terminate_backend(${conn.pid}) as ok`;
      expect(row?.ok).toBe(true);
      await hold?.held;
      await hold?.upstreamClosed;
      await hold?.release();
      const error = await querying;
      await settle();
      expect(error).toMatchObject({ code: '57P01' });
      expect(driver.isDisconnect(error)).toBe(true);
      expect(driver.isAlive?.(conn)).toBe(false);
      expect(dead()).toBeDefined();
      await driver.close(conn);
      expect(proxy?.stats().accepted).toBe(1);
      expect(proxy?.stats().open).toBe(0);
    });

    it('killed with its answer held: the answer is delivered, then the connection is dead, nothing unhandled', async () => {
      let hold: ReturnType<TcpProxy['holdMessage']> | undefined;
      const { conn, driver, dead } = await opened((p) => {
        hold = p.holdMessage('pg', (m) => m.type === 'T');
      });
      const querying = conn.query('select 1 as n').then(
        (r) => r.rows,
        (e: unknown) => e,
      );
      await hold?.held;
      await kill(hold?.upstreamPort ?? 0);
      await hold?.upstreamClosed;
      await hold?.release();
      // the server answered before it was killed: the answer is the query's, the FATAL the connection's
      expect(await querying).toEqual([{ n: 1 }]);
      await settle();
      expect(driver.isAlive?.(conn)).toBe(false);
      expect(dead()).toBeDefined();
      await driver.close(conn);
      expect(proxy?.stats().accepted).toBe(1);
      expect(proxy?.stats().open).toBe(0);
    });

    it('cut (RST) with its answer held: the query rejects with a disconnect error, the connection is dead', async () => {
      let hold: ReturnType<TcpProxy['holdMessage']> | undefined;
      const { conn, driver, dead } = await opened((p) => {
        hold = p.holdMessage('pg', (m) => m.type === 'T');
      });
      const querying = conn.query('select 1 as n').then(
        () => 'resolved',
        (e: unknown) => e,
      );
      await hold?.held;
      proxy?.cutAll({ reset: true });
      const error = await querying;
      await settle();
      expect(error).toBeInstanceOf(Error);
      expect(driver.isDisconnect(error)).toBe(true);
      expect(driver.isAlive?.(conn)).toBe(false);
      expect(dead()).toBeDefined();
      await driver.close(conn);
      expect(proxy?.stats().accepted).toBe(1);
      expect(proxy?.stats().open).toBe(0);
    });
  });
});
