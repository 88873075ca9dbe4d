/**
 * Rotating credentials on the postgres.js driver (issue 9.4): `password` as a sync or
 * async function is called once for every new connection, before it opens, and its
 * value is what postgres.js gets. The shared server uses trust authentication (it never
 * asks for a password), so this proves the calls and the value handed to postgres.js;
 * the MariaDB tests prove a function-supplied password authenticating for real.
 * A function that throws, rejects, hangs or returns a non-string is a ConnectError, never an
 * unhandled rejection, and no password ever appears in an error, in a pool event or in anything
 * printed (console, stdout, stderr, process warnings: test/support/password-failures.ts).
 */
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { postgres } from '../../src/drivers/postgres/index.js';
import { ConnectError, createPool } from '../../src/index.js';
import { expectPasswordFailuresKeepSecrets } from '../support/password-failures.js';
import { connectCtx, PG_URL } from '../support/postgres.js';
import { serverAvailable } from '../support/servers.js';

const up = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');

describe.skipIf(!up)('postgres driver: password as a function', () => {
  const pools: Array<{ close(): Promise<void> }> = [];
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.close()));
  });

  it('is called once per new connection and its value reaches postgres.js (sync and async)', async () => {
    let n = 0;
    for (const password of [() => `rotating-token-${++n}`, async () => `rotating-token-${++n}`]) {
      const driver = postgres(PG_URL, { password });
      const a = await driver.connect(connectCtx());
      const b = await driver.connect(connectCtx());
      try {
        const passes = [a, b].map((c) => (c.raw.options as unknown as { pass: unknown }).pass);
        expect(passes).toEqual([`rotating-token-${n - 1}`, `rotating-token-${n}`]);
        expect(await a.sql`select 1 as x`).toEqual([{ x: 1 }]);
      } finally {
        await driver.close(a);
        await driver.close(b);
      }
    }
    expect(n).toBe(4);
  });

  it('in a pool: one call per connection opened, none per checkout', async () => {
    let calls = 0;
    const pool = createPool(
      postgres(PG_URL, {
        password: async () => {
          calls++;
          return 'per-connection-token';
        },
      }),
      { size: 3, maxOverflow: 0, telemetry: false },
    );
    pools.push(pool);
    await Promise.all(Array.from({ length: 3 }, () => pool.use((c) => c.sql`select pg_sleep(0.05)`)));
    for (let i = 0; i < 10; i++) await pool.use((c) => c.sql`select 1`);
    expect(pool.stats().size).toBe(3);
    expect(calls).toBe(3);
  });

  it('a function that throws, rejects, never answers or returns a non-string: ConnectError with the code, nothing unhandled, no secret printed, in the error or in pool events', async () => {
    const urlSecret = `pg-url-secret-${process.pid}`;
    await expectPasswordFailuresKeepSecrets({
      driver: (password) =>
        postgres(PG_URL.replace('postgres://postgres@', `postgres://postgres:${urlSecret}@`), {
          password: password as () => string,
        }),
      ctx: (timeoutMs) => connectCtx({ timeoutMs }),
      secrets: [urlSecret],
      // the shared server trusts 127.0.0.1: any value opens the pool's first connection
      accepted: `rotated-secret-${process.pid}`,
      query: (c) => c.sql`select 1`,
    });
  });

  it('a wrong password never shows: a URL password and a function value stay out of errors', async () => {
    const secret = 'pw-must-not-leak-5b1e';
    const driver = postgres(PG_URL.replace('postgres://postgres@', 'postgres://postgres:other-secret@'), {
      password: () => secret,
      database: 'cistern_no_such_database_for_password_test',
    });
    const error = await driver.connect(connectCtx()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    const text = `${inspect(error, { depth: 10, showHidden: true })} ${JSON.stringify(error)} ${(error as Error).stack}`;
    expect(text).not.toContain(secret);
    expect(text).not.toContain('other-secret');
  });
});
