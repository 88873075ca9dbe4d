/** Connect failures: a clear ConnectError, within the time allowed, never showing a password. */
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { postgres } from '../../src/drivers/postgres/index.js';
import { createPool } from '../../src/index.js';
import { ConnectError, PoolTimeoutError } from '../../src/pool/errors.js';
import { connectCtx, PG_URL } from '../support/postgres.js';
import { serverAvailable } from '../support/servers.js';
import { startTcpProxy } from '../support/tcp-proxy.js';

const up = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');
const PASSWORD = 'hunter2-never-shown';

function withPassword(url: string, patch: { database?: string; user?: string } = {}): string {
  const u = new URL(url);
  u.password = PASSWORD;
  if (patch.user !== undefined) u.username = patch.user;
  if (patch.database !== undefined) u.pathname = `/${patch.database}`;
  return u.toString();
}

/** Everything an error could leak through: message, stack, own properties and the cause chain. */
function everythingIn(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current; depth++) {
    if (current instanceof Error) parts.push(current.message, String(current.stack));
    try {
      parts.push(JSON.stringify(current, Object.getOwnPropertyNames(current)));
    } catch {
      parts.push(String(current));
    }
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join('\n');
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe.skipIf(!up)('postgres driver: connect errors', () => {
  const proxies: { close(): Promise<void> }[] = [];
  afterAll(async () => {
    for (const p of proxies) await p.close();
  });

  it('a database that does not exist: ConnectError naming the target, password masked everywhere', async () => {
    const url = withPassword(PG_URL, { database: 'cistern_no_such_db' });
    const driver = postgres(url);
    const error = await driver.connect(connectCtx()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe('CONNECT_FAILED');
    expect((error as Error).message).toContain('postgres://postgres:***@127.0.0.1:5432/cistern_no_such_db');
    expect((error as Error).message).toContain('does not exist');
    expect((error as Error).cause).toMatchObject({ code: '3D000' });
    expect(everythingIn(error)).not.toContain(PASSWORD);
  });

  it('a role that does not exist: ConnectError with the server code in the cause', async () => {
    const driver = postgres(withPassword(PG_URL, { user: 'cistern_no_such_role' }));
    const error = await driver.connect(connectCtx()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as Error).cause).toMatchObject({ code: '28000' });
    expect(everythingIn(error)).not.toContain(PASSWORD);
  });

  it('a closed port: ConnectError with ECONNREFUSED, fast', async () => {
    const port = await closedPort();
    const driver = postgres(withPassword(`postgres://postgres@127.0.0.1:${port}/test`));
    const started = performance.now();
    const error = await driver.connect(connectCtx({ timeoutMs: 5000 })).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as Error).message).toContain(`127.0.0.1:${port}`);
    expect((error as Error).cause).toMatchObject({ code: 'ECONNREFUSED' });
    expect(everythingIn(error)).not.toContain(PASSWORD);
  });

  it('a server that accepts but never answers: ConnectError after timeoutMs, socket closed', async () => {
    const proxy = await startTcpProxy({ targetPort: Number(new URL(PG_URL).port), mode: 'stall' });
    proxies.push(proxy);
    const driver = postgres(withPassword(proxy.url(PG_URL)));
    const started = performance.now();
    const error = await driver.connect(connectCtx({ timeoutMs: 300 })).catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(3000);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as Error).message).toMatch(/timed out|no answer|CONNECT_TIMEOUT/i);
    expect(everythingIn(error)).not.toContain(PASSWORD);
    // the driver closed its side: the proxy sees no open connection
    await expect.poll(() => proxy.stats().open, { timeout: 2000 }).toBe(0);
  });

  it('an aborted signal rejects the connect at once and closes the socket', async () => {
    const proxy = await startTcpProxy({ targetPort: Number(new URL(PG_URL).port), mode: 'stall' });
    proxies.push(proxy);
    const driver = postgres(proxy.url(PG_URL));
    const controller = new AbortController();
    const pending = driver.connect(connectCtx({ timeoutMs: 60_000, signal: controller.signal }));
    await expect.poll(() => proxy.stats().accepted).toBe(1);
    controller.abort(new Error('pool gave up'));
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as Error).cause).toMatchObject({ message: 'pool gave up' });
    await expect.poll(() => proxy.stats().open, { timeout: 2000 }).toBe(0);
  });

  it('through the pool: acquire fails with the ConnectError (or a timeout carrying it), no password', async () => {
    const pool = createPool(postgres(withPassword(PG_URL, { database: 'cistern_no_such_db' })), {
      telemetry: false,
      acquireTimeoutMs: 2000,
    });
    const events: unknown[] = [];
    pool.on('connectFailed', (e) => events.push(e.error));
    pool.on('checkoutFailed', (e) => events.push(e.error));
    try {
      const error = await pool.use((c) => c.sql`select 1`).catch((e: unknown) => e);
      expect(error instanceof ConnectError || error instanceof PoolTimeoutError).toBe(true);
      expect(everythingIn(error)).toContain('cistern_no_such_db');
      expect(everythingIn(error)).not.toContain(PASSWORD);
      expect(events.length).toBeGreaterThan(0);
      for (const e of events) expect(everythingIn(e)).not.toContain(PASSWORD);
    } finally {
      await pool.close();
    }
  });
});
