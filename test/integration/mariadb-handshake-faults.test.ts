/**
 * A MariaDB session killed, or its connection cut, at each step of the connector's
 * handshake (issue 9.1): the server greeting, the authentication result, and the
 * answer to the `SET` the connector sends after authenticating (here for
 * `sessionVariables`). A TCP proxy holds the server's packets from that step on
 * (`holdMessage('mysql', ...)`), the session is KILLed from the server side (found
 * by the proxy's own port in the processlist), then the held packets and the close
 * arrive together. Each time: a ConnectError, nothing unhandled (setup.ts fails the
 * test otherwise), exactly one socket, nothing left open.
 */
import type { Connection } from 'mariadb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mariadb } from '../../src/drivers/mariadb/index.js';
import { ConnectError } from '../../src/pool/errors.js';
import { adminConnection, directContext, kill } from '../support/mariadb-admin.js';
import { MARIADB_URL, serverAvailable } from '../support/servers.js';
import { type ProxyMessage, startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const available = await serverAvailable('MariaDB', MARIADB_URL, 'MARIADB_URL');

const STEPS: Array<{ step: string; match: (m: ProxyMessage) => boolean; opensThenDies?: boolean }> = [
  { step: 'the server greeting', match: (m) => m.index === 0 },
  // the connector sends its SET only once it has read this: killed here, the SET is what fails
  { step: "the authentication result (before the connector's SET)", match: (m) => m.index === 1 },
  // the server answered the SET before the KILL: the handshake completes, then the session is gone
  { step: "the answer to the connector's SET", match: (m) => m.index === 2, opensThenDies: true },
];

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 20));
}

describe.skipIf(!available)('mariadb driver: session killed or connection cut at each handshake step', () => {
  let admin: Connection;
  let proxy: TcpProxy | undefined;
  beforeAll(async () => {
    admin = await adminConnection();
  });
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });
  afterAll(async () => {
    await admin?.end();
  });

  async function sessionOf(port: number): Promise<number> {
    for (let i = 0; i < 50; i++) {
      const rows: { id: bigint | number }[] = await admin.query(
        'SELECT id FROM information_schema.processlist WHERE host = ?',
        [`127.0.0.1:${port}`],
      );
      if (rows[0] !== undefined) return Number(rows[0].id);
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no session for proxy port ${port}`);
  }

  function driverFor(p: TcpProxy) {
    const u = new URL(MARIADB_URL);
    return mariadb(p.url(MARIADB_URL), {
      host: '127.0.0.1',
      port: p.port,
      user: decodeURIComponent(u.username || 'root'),
      sessionVariables: { wait_timeout: 28800 },
    });
  }

  for (const { step, match, opensThenDies } of STEPS) {
    const outcome = opensThenDies ? 'opens, then is dead' : 'ConnectError';
    it(`killed at ${step}: ${outcome}, nothing unhandled, one socket`, async () => {
      proxy = await startTcpProxy({ targetPort: Number(new URL(MARIADB_URL).port || 3306) });
      const hold = proxy.holdMessage('mysql', match);
      const driver = driverFor(proxy);
      const ctx = directContext({ timeoutMs: 5000 });
      const connecting = driver.connect(ctx).then(
        (conn) => conn,
        (e: unknown) => e,
      );
      await hold.held;
      await kill(admin, await sessionOf(hold.upstreamPort));
      await hold.upstreamClosed;
      await hold.release();
      const result = await connecting;
      await settle();
      if (opensThenDies) {
        expect(driver.isAlive?.(result as never)).toBe(false);
        expect(ctx.dead).toHaveLength(1);
        await driver.close(result as never);
      } else {
        expect(result).toBeInstanceOf(ConnectError);
      }
      expect(proxy.stats().accepted).toBe(1);
      expect(proxy.stats().open).toBe(0);
    });

    it(`cut (RST) at ${step}: ConnectError, nothing unhandled, one socket`, async () => {
      proxy = await startTcpProxy({ targetPort: Number(new URL(MARIADB_URL).port || 3306) });
      const hold = proxy.holdMessage('mysql', match);
      const driver = driverFor(proxy);
      const connecting = driver.connect(directContext({ timeoutMs: 5000 })).then(
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

  it("cut (RST) as the connector's SET goes out: ConnectError, nothing unhandled, one socket", async () => {
    proxy = await startTcpProxy({ targetPort: Number(new URL(MARIADB_URL).port || 3306) });
    let sawSet = false;
    proxy.cutWhen((dir, chunk) => dir === 'up' && (sawSet = chunk.includes('wait_timeout')));
    const error = await driverFor(proxy)
      .connect(directContext({ timeoutMs: 5000 }))
      .catch((e: unknown) => e);
    expect(sawSet).toBe(true);
    expect(error).toBeInstanceOf(ConnectError);
    await settle();
    expect(proxy.stats().accepted).toBe(1);
    expect(proxy.stats().open).toBe(0);
  });
});
