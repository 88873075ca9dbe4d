/**
 * Multi-host URLs (issue 14.3) on the postgres.js driver: the host list is walked
 * only while a connection is being opened. A dead first host (a closed port on
 * 127.0.0.1) is skipped; all hosts down is one ConnectError naming each host tried
 * (and no password); a connection that served never moves to another host.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { postgres } from '../../src/drivers/postgres/index.js';
import { ConnectError, createPool } from '../../src/index.js';
import { connectCtx, PG_URL } from '../support/postgres.js';
import { serverAvailable } from '../support/servers.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const up = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function multiHost(ports: number[], query = ''): string {
  const u = new URL(PG_URL);
  const auth = `${u.username}${u.password ? `:${u.password}` : ''}@`;
  return `postgres://${auth}${ports.map((p) => `127.0.0.1:${p}`).join(',')}${u.pathname}${query}`;
}

describe.skipIf(!up)('postgres driver: multi-host URLs', () => {
  let proxy: TcpProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  it('a dead first host is skipped: the connection opens on the next one', async () => {
    proxy = await startTcpProxy({ targetPort: Number(new URL(PG_URL).port) });
    for (const tsa of ['', '?target_session_attrs=any', '?target_session_attrs=read-write']) {
      const driver = postgres(multiHost([await closedPort(), proxy.port], tsa));
      const conn = await driver.connect(connectCtx({ timeoutMs: 5000 }));
      try {
        expect(await conn.sql`select 1 as x`).toEqual([{ x: 1 }]);
      } finally {
        await driver.close(conn);
      }
    }
    expect(proxy.stats().accepted).toBe(3);
  });

  it('all hosts down: one ConnectError naming each host tried, no password', async () => {
    const [a, b] = [await closedPort(), await closedPort()];
    const secret = 'multi-host-secret-77aa';
    const url = multiHost([a, b]).replace('postgres://postgres@', `postgres://postgres:${secret}@`);
    const error = await postgres(url)
      .connect(connectCtx({ timeoutMs: 5000 }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    const message = (error as Error).message;
    expect(message).toContain(`127.0.0.1:${a}`);
    expect(message).toContain(`127.0.0.1:${b}`);
    expect(message).toMatch(/ECONNREFUSED/);
    expect(message).not.toContain(secret);
  });

  it('a connection that served never walks to another host when its socket dies', async () => {
    proxy = await startTcpProxy({ targetPort: Number(new URL(PG_URL).port) });
    const second = await startTcpProxy({ targetPort: Number(new URL(PG_URL).port) });
    try {
      const pool = createPool(postgres(multiHost([proxy.port, second.port])), {
        size: 1,
        maxOverflow: 0,
        telemetry: false,
      });
      try {
        await pool.use(async (c) => {
          expect(await c.sql`select 1 as x`).toEqual([{ x: 1 }]);
          proxy!.cutAll();
          await expect(c.sql`select 1`).rejects.toThrow();
          await expect(c.sql`select 1`).rejects.toThrow();
        });
        expect(second.stats().accepted).toBe(0);
        expect(proxy.stats().accepted).toBe(1);
      } finally {
        await pool.close();
      }
    } finally {
      await second.close();
    }
  });
});
