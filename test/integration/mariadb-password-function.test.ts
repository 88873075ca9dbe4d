/**
 * Rotating credentials on the mariadb driver (issue 9.4): the connector takes only a
 * string, so the driver calls a `password` function (sync or async) once for every new
 * connection, right before `createConnection`. Against a real user with a real password
 * (created here, prefix cistern_rot): the function's value authenticates, a wrong value
 * is refused by the server, a throwing, rejecting, hanging or non-string function is a
 * ConnectError; no password appears in any error, pool event or printed text
 * (test/support/password-failures.ts).
 */
import type { Connection } from 'mariadb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mariadb } from '../../src/drivers/mariadb/index.js';
import { ConnectError, createPool } from '../../src/index.js';
import {
  adminConnection,
  createTestUser,
  directContext,
  serializeError,
  type TestUser,
} from '../support/mariadb-admin.js';
import { expectPasswordFailuresKeepSecrets } from '../support/password-failures.js';
import { MARIADB_URL, serverAvailable } from '../support/servers.js';

const available = await serverAvailable('MariaDB', MARIADB_URL, 'MARIADB_URL');

describe.skipIf(!available)('mariadb driver: password as a function', () => {
  let admin: Connection;
  let user: TestUser;
  let base: string;
  beforeAll(async () => {
    admin = await adminConnection();
    user = await createTestUser(admin, 'cistern_rot');
    const u = new URL(user.url);
    u.password = '';
    base = u.toString();
  });
  afterAll(async () => {
    await user?.drop();
    await admin?.end();
  });

  it("the function's value authenticates, once per new connection (sync and async)", async () => {
    let calls = 0;
    for (const password of [
      () => {
        calls++;
        return user.password;
      },
      async () => {
        calls++;
        return user.password;
      },
    ]) {
      const driver = mariadb(base, { password });
      const a = await driver.connect(directContext());
      const b = await driver.connect(directContext());
      try {
        const rows = await a.query<{ u: string }[]>('SELECT CURRENT_USER() AS u');
        expect(rows[0]?.u).toMatch(new RegExp(`^${user.user}@`));
      } finally {
        await driver.close(a);
        await driver.close(b);
      }
    }
    expect(calls).toBe(4);
  });

  it('in a pool: one call per connection opened, none per checkout', async () => {
    let calls = 0;
    const pool = createPool(
      mariadb(base, {
        password: async () => {
          calls++;
          return user.password;
        },
      }),
      { size: 2, maxOverflow: 0, telemetry: false },
    );
    try {
      await Promise.all([1, 2].map(() => pool.use((c) => c.query('SELECT SLEEP(0.05)'))));
      for (let i = 0; i < 10; i++) await pool.use((c) => c.query('SELECT 1'));
      expect(pool.stats().size).toBe(2);
      expect(calls).toBe(2);
    } finally {
      await pool.close();
    }
  });

  it('a wrong value from the function is refused by the server: ConnectError, the value never shown', async () => {
    const wrong = 'wrong-rotated-secret-8c2f';
    const error = await mariadb(base, { password: async () => wrong })
      .connect(directContext())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as Error).message).toMatch(/Access denied/);
    const text = serializeError(error);
    expect(text).not.toContain(wrong);
    expect(text).not.toContain(user.password);
  });

  it('a function that throws, rejects, never answers or returns a non-string: ConnectError with the code, nothing unhandled, no secret printed, in the error or in pool events', async () => {
    const urlSecret = `mariadb-url-secret-${process.pid}`;
    const withUrlPassword = new URL(base);
    withUrlPassword.password = urlSecret;
    await expectPasswordFailuresKeepSecrets({
      // the function wins over the URL's password (which would be refused anyway)
      driver: (password) => mariadb(withUrlPassword.toString(), { password: password as () => string }),
      ctx: (timeoutMs) => directContext({ timeoutMs }),
      secrets: [urlSecret, user.password],
      // the user's real password: the pool's first connection authenticates with it
      accepted: user.password,
      query: (c) => c.query('SELECT 1'),
    });
  });
});
