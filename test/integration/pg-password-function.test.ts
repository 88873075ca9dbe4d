/**
 * Rotating credentials on cistern/pg (issue 12): `password` as a sync or async function
 * is resolved by cistern (src/drivers/resolve-password.ts) once for every new connection,
 * before it opens, whatever the server's authentication method, as the other drivers do;
 * pg receives the string. Its failures are ConnectErrors whose cause carries
 * PASSWORD_FUNCTION_FAILED / PASSWORD_TIMEOUT / PASSWORD_NOT_A_STRING, never a password.
 *
 * The shared server trusts 127.0.0.1 (the password is never checked there), so it shows the
 * calls, the value pg gets and the errors; a temporary plain-text node of the topology
 * harness with a scram-sha-256 role (`cistern_scram`) shows the value authenticating.
 */
import net from 'node:net';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pool as PgPool, pg } from '../../src/drivers/pg/index.js';
import { ConnectError, createPool } from '../../src/index.js';
import { expectPasswordFailuresKeepSecrets } from '../support/password-failures.js';
import { PG_ROLES, type PgNode, pgClusterAvailable, startPgPrimary } from '../support/pg-cluster.js';
import { connectCtx, PG_URL } from '../support/postgres.js';
import { serverAvailable } from '../support/servers.js';

const up = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');
const clusterUp = up && (await pgClusterAvailable());

function codeOfCause(error: unknown): string | undefined {
  return ((error as { cause?: { code?: string } }).cause ?? {}).code;
}

describe.skipIf(!up)('cistern/pg: password as a function (shared server, trust)', () => {
  const pools: Array<{ close(): Promise<void> }> = [];
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.close()));
  });

  it('is called once per new connection, with the target, and its value is what pg gets (sync and async)', async () => {
    let n = 0;
    const seen: unknown[] = [];
    const sync = (params: unknown) => {
      seen.push(params);
      return `rotating-token-${++n}`;
    };
    const async_ = async () => `rotating-token-${++n}`;
    for (const password of [sync, async_]) {
      const driver = pg(PG_URL, { password });
      const a = await driver.connect(connectCtx());
      const b = await driver.connect(connectCtx());
      try {
        const values = [a, b].map((c) => (c.raw as unknown as { password: unknown }).password);
        expect(values).toEqual([`rotating-token-${n - 1}`, `rotating-token-${n}`]);
        expect((await a.query('select 1 as x')).rows).toEqual([{ x: 1 }]);
      } finally {
        await driver.close(a);
        await driver.close(b);
      }
    }
    expect(n).toBe(4);
    const u = new URL(PG_URL);
    expect(seen[0]).toEqual({
      host: u.hostname,
      port: Number(u.port || 5432),
      user: u.username,
      database: u.pathname.slice(1),
    });
  });

  it('in a pool: one call per connection opened, none per checkout', async () => {
    let calls = 0;
    const pool = createPool(
      pg(PG_URL, {
        password: async () => {
          calls++;
          return 'per-connection-token';
        },
      }),
      { size: 3, maxOverflow: 0, telemetry: false },
    );
    pools.push(pool);
    await Promise.all(Array.from({ length: 3 }, () => pool.use((c) => c.query('select pg_sleep(0.05)'))));
    for (let i = 0; i < 10; i++) await pool.use((c) => c.query('select 1'));
    expect(pool.stats().size).toBe(3);
    expect(calls).toBe(3);
  });

  it('throws, rejects, never answers, or returns a non-string: a ConnectError with the code on its cause, no secret printed, in the error or in pool events', async () => {
    const urlSecret = `pg-url-secret-${process.pid}`;
    await expectPasswordFailuresKeepSecrets({
      driver: (password) =>
        pg(PG_URL.replace('postgres://postgres@', `postgres://postgres:${urlSecret}@`), {
          password: password as () => string,
        }),
      ctx: (timeoutMs) => connectCtx({ timeoutMs }),
      secrets: [urlSecret],
      // the shared server trusts 127.0.0.1: any value opens the pool's first connection
      accepted: `rotated-secret-${process.pid}`,
      query: (c) => c.query('select 1'),
    });
  });

  it('the pg.Pool face resolves it the same way: called per new client, its failure is the coded error', async () => {
    let calls = 0;
    const face = new PgPool({
      connectionString: PG_URL,
      max: 2,
      password: () => {
        calls++;
        return 'face-token';
      },
    });
    try {
      await Promise.all([1, 2].map(() => face.query('select pg_sleep(0.05)')));
      expect(calls).toBe(face.totalCount);
      expect(calls).toBeGreaterThanOrEqual(1);
    } finally {
      await face.end();
    }
    const failing = new PgPool({
      connectionString: PG_URL,
      password: async () => {
        throw new Error('vault sealed');
      },
    });
    try {
      const error = await failing.connect().catch((e: unknown) => e);
      expect((error as { code?: string }).code).toBe('PASSWORD_FUNCTION_FAILED');
      expect((error as Error).message).toBe('the password function failed: vault sealed');
    } finally {
      await failing.end();
    }
  });

  it('a password never shows: a URL password and a function value stay out of errors', async () => {
    const secret = 'pg-pw-must-not-leak-7c2d';
    const u = new URL(PG_URL);
    u.pathname = '/cistern_no_such_database_for_password_test';
    const driver = pg(u.toString(), { password: () => secret });
    const withUrlPassword = pg(
      u.toString().replace('postgres://postgres@', 'postgres://postgres:other-secret@'),
      {
        password: () => secret,
      },
    );
    for (const d of [driver, withUrlPassword]) {
      const error = await d.connect(connectCtx()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectError);
      const text = `${inspect(error, { depth: 10, showHidden: true })} ${JSON.stringify(error)} ${(error as Error).stack}`;
      expect(text).toMatch(/cistern_no_such_database_for_password_test/);
      expect(text).not.toContain(secret);
      expect(text).not.toContain('other-secret');
    }
  });
});

describe.skipIf(!clusterUp)('cistern/pg: password function against a scram-sha-256 role', () => {
  let node: PgNode;
  beforeAll(async () => {
    node = await startPgPrimary({ tls: false });
  });
  afterAll(async () => {
    await node?.destroy();
  });

  const scramUrl = (): string => `postgres://${PG_ROLES.scram.user}@127.0.0.1:${node.port}/test`;

  it('the function value authenticates; a wrong one fails with 28P01 and is not in the error', async () => {
    const driver = pg(scramUrl(), { password: async () => PG_ROLES.scram.password });
    const conn = await driver.connect(connectCtx({ timeoutMs: 10_000 }));
    try {
      const { rows } = await conn.query('select current_user as u');
      expect(rows).toEqual([{ u: PG_ROLES.scram.user }]);
    } finally {
      await driver.close(conn);
    }
    const wrong = 'wrong-scram-password-91f0';
    const error = await pg(scramUrl(), { password: () => wrong })
      .connect(connectCtx({ timeoutMs: 10_000 }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect(codeOfCause(error)).toBe('28P01');
    expect(`${inspect(error, { depth: 10, showHidden: true })} ${(error as Error).stack}`).not.toContain(
      wrong,
    );
  });

  it('a string password next to a connectionString authenticates too (pg alone drops it), driver and face', async () => {
    const driver = pg(scramUrl(), { password: PG_ROLES.scram.password });
    const conn = await driver.connect(connectCtx({ timeoutMs: 10_000 }));
    try {
      expect((await conn.query('select current_user as u')).rows).toEqual([{ u: PG_ROLES.scram.user }]);
    } finally {
      await driver.close(conn);
    }
    const face = new PgPool({ connectionString: scramUrl(), password: PG_ROLES.scram.password, max: 1 });
    try {
      expect((await face.query('select current_user as u')).rows).toEqual([{ u: PG_ROLES.scram.user }]);
    } finally {
      await face.end();
    }
  });

  it('a multi-host URL calls it for each host tried, with that host', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const dead = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const ports: unknown[] = [];
    const url = `postgres://${PG_ROLES.scram.user}@127.0.0.1:${dead},127.0.0.1:${node.port}/test`;
    const face = new PgPool({
      connectionString: url,
      max: 1,
      password: (params: { port?: number }) => {
        ports.push(params.port);
        return PG_ROLES.scram.password;
      },
    });
    try {
      const { rows } = await face.query('select current_user as u, inet_server_port() as port');
      expect(rows).toEqual([{ u: PG_ROLES.scram.user, port: node.port }]);
      expect(ports).toEqual([dead, node.port]);
    } finally {
      await face.end();
    }
  });
});
