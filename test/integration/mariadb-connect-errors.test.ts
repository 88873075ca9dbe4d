/**
 * Connect failures of the mariadb driver: wrong password, unreachable host, a
 * server that never answers (stalling proxy), an aborted connect. Each fails
 * with a ConnectError naming the target, never carrying the password.
 */
import net from 'node:net';
import { inspect } from 'node:util';
import type { Connection } from 'mariadb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MariadbConnection, mariadb } from '../../src/drivers/mariadb/index.js';
import { ConnectError, createPool, isPoolError } from '../../src/index.js';
import {
  adminConnection,
  createTestUser,
  directContext,
  eventually,
  serializeError,
  type TestUser,
} from '../support/mariadb-admin.js';
import { MARIADB_URL, serverAvailable } from '../support/servers.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const available = await serverAvailable('MariaDB', MARIADB_URL, 'MARIADB_URL');

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function withCredentials(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  return u.toString();
}

describe.skipIf(!available)('mariadb driver: connect failures', () => {
  let admin: Connection;
  let account: TestUser;
  let proxy: TcpProxy;

  beforeAll(async () => {
    admin = await adminConnection();
    account = await createTestUser(admin, 'cistern_pw');
    proxy = await startTcpProxy({ targetPort: Number(new URL(MARIADB_URL).port || 3306) });
  });

  afterAll(async () => {
    await proxy?.close();
    await account?.drop();
    await admin?.end();
  });

  it('connects with the right password (the user is real)', async () => {
    const driver = mariadb(account.url);
    const conn = await driver.connect(directContext());
    const [row] = await conn.query('SELECT CURRENT_USER() AS u');
    expect(row.u).toContain(account.user);
    // neither the driver nor the connection shows the password when printed
    for (const printed of [
      inspect(driver, { depth: 8 }),
      inspect(conn, { depth: 4 }),
      JSON.stringify(driver.target),
    ]) {
      expect(printed).not.toContain(account.password);
    }
    await driver.close(conn);
  });

  it('a wrong password fails in connect with a ConnectError that never carries a password', async () => {
    const wrong = `wrong-${account.password}-pw`;
    const url = withCredentials(MARIADB_URL, account.user, wrong);
    const driver = mariadb(url);
    const error = await driver.connect(directContext()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConnectError);
    expect(isPoolError(error)).toBe(true);
    const e = error as ConnectError;
    expect(e.code).toBe('CONNECT_FAILED');
    expect(e.message).toContain(`mariadb://${account.user}:***@`);
    expect(e.message).toContain('/test');
    expect((e.cause as { errno?: number }).errno).toBe(1045);
    const text = serializeError(e);
    expect(text).not.toContain(wrong);
    expect(text).not.toContain(account.password);

    // also through the options form and through a pool
    const viaOptions = mariadb({
      host: '127.0.0.1',
      port: Number(new URL(MARIADB_URL).port || 3306),
      user: account.user,
      password: wrong,
      database: 'test',
    });
    const e2 = await viaOptions.connect(directContext()).catch((x: unknown) => x);
    expect(e2).toBeInstanceOf(ConnectError);
    expect(serializeError(e2)).not.toContain(wrong);

    const pool = createPool(mariadb(url), {
      size: 1,
      maxOverflow: 0,
      acquireTimeoutMs: 3000,
      telemetry: false,
    });
    const failures: unknown[] = [];
    pool.on('connectFailed', ({ error }) => failures.push(error));
    const e3 = await pool.acquire().catch((x: unknown) => x);
    await pool.close();
    expect(isPoolError(e3)).toBe(true);
    expect(failures.length).toBeGreaterThan(0);
    for (const x of [e3, ...failures]) expect(serializeError(x)).not.toContain(wrong);
  });

  it('an unreachable host (closed port on 127.0.0.1) fails fast with ConnectError', async () => {
    const port = await closedPort();
    const driver = mariadb(`mariadb://root:topsecret@127.0.0.1:${port}/test`);
    const error = (await driver.connect(directContext()).catch((e: unknown) => e)) as ConnectError;
    expect(error).toBeInstanceOf(ConnectError);
    expect(error.message).toContain(`mariadb://root:***@127.0.0.1:${port}/test`);
    expect((error.cause as { code?: string }).code).toBe('ECONNREFUSED');
    expect(driver.isDisconnect(error.cause)).toBe(true);
    expect(serializeError(error)).not.toContain('topsecret');
  });

  it('a server that never answers fails within ctx.timeoutMs (connectTimeout comes from the pool)', async () => {
    proxy.stall();
    try {
      const driver = mariadb(proxy.url(MARIADB_URL));
      const error = (await driver
        .connect(directContext({ timeoutMs: 300 }))
        .catch((e: unknown) => e)) as ConnectError;
      expect(error).toBeInstanceOf(ConnectError);
      expect((error.cause as { errno?: number }).errno).toBe(45012); // ER_CONNECTION_TIMEOUT
      expect(error.message).toContain(`127.0.0.1:${proxy.port}`);
      // the connector gave up the socket: the proxy sees no connection left open
      const open = await eventually(
        async () => proxy.stats().open,
        (n) => n === 0,
      );
      expect(open).toBe(0);
    } finally {
      proxy.pass();
    }
  });

  it("does not use the connector's 1 s connectTimeout default: a 1.5 s slow handshake succeeds", async () => {
    proxy.stall();
    const resume = setTimeout(() => proxy.pass(), 1500);
    try {
      const driver = mariadb(proxy.url(MARIADB_URL));
      const conn: MariadbConnection = await driver.connect(directContext({ timeoutMs: 10_000 }));
      const [row] = await conn.query('SELECT 1 AS one');
      expect(Number(row.one)).toBe(1);
      await driver.close(conn);
    } finally {
      clearTimeout(resume);
      proxy.pass();
    }
  });

  it('an abort during connect rejects at once and destroys the socket', async () => {
    proxy.stall();
    try {
      const abort = new AbortController();
      const driver = mariadb(proxy.url(MARIADB_URL));
      const pending = driver.connect(directContext({ timeoutMs: 60_000, signal: abort.signal }));
      await eventually(
        async () => proxy.stats().open,
        (n) => n === 1,
      );
      const reason = new Error('pool gave up');
      abort.abort(reason);
      const error = (await pending.catch((e: unknown) => e)) as ConnectError;
      expect(error).toBeInstanceOf(ConnectError);
      expect(error.cause).toBe(reason);
      expect(error.message).toContain('aborted');
      const open = await eventually(
        async () => proxy.stats().open,
        (n) => n === 0,
      );
      expect(open).toBe(0);
      // an already-aborted signal never opens a socket
      const accepted = proxy.stats().accepted;
      const again = await driver.connect(directContext({ signal: abort.signal })).catch((e: unknown) => e);
      expect(again).toBeInstanceOf(ConnectError);
      expect(proxy.stats().accepted).toBe(accepted);
    } finally {
      proxy.pass();
    }
  });

  it('the pool connectTimeoutMs bounds a stalled connect and the caller gets the error', async () => {
    proxy.stall();
    try {
      const pool = createPool(mariadb(proxy.url(MARIADB_URL)), {
        size: 1,
        maxOverflow: 0,
        connectTimeoutMs: 300,
        acquireTimeoutMs: 5000,
        telemetry: false,
      });
      const error = await pool.acquire().catch((e: unknown) => e);
      expect(isPoolError(error)).toBe(true);
      await pool.close();
      const open = await eventually(
        async () => proxy.stats().open,
        (n) => n === 0,
      );
      expect(open).toBe(0);
    } finally {
      proxy.pass();
    }
  });
});
