/**
 * cistern/pg over TLS, on a temporary TLS-only PostgreSQL (test/support/pg-cluster.ts,
 * the topology helper's harness): `sslmode` and `sslrootcert` in the URL (pg parses
 * them with pg-connection-string), an `ssl` options object, plain text refused, an
 * untrusted CA failing connect as a ConnectError, the face over TLS, and reset
 * still free of round trips (pg reads the transaction status after decryption).
 * Also: a temporary plain server stopped (immediate) and started again under load
 * from the driver and the face: every caller settles.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPgDisconnect, Pool, pg } from '../../src/drivers/pg/index.js';
import { ConnectError, createPool, PoolConfigError } from '../../src/index.js';
import { type PgNode, pgClusterAvailable, startPgPrimary } from '../support/pg-cluster.js';
import { connectCtx } from '../support/postgres.js';

const available = await pgClusterAvailable();

describe.runIf(available)('cistern/pg over TLS', () => {
  let primary: PgNode;
  beforeAll(async () => {
    primary = await startPgPrimary();
  }, 60_000);
  afterAll(async () => {
    await primary?.destroy();
  });

  it('sslmode=verify-full with sslrootcert in the URL: an encrypted connection, reset without a round trip', async () => {
    const pool = createPool(pg(primary.url({ sslmode: 'verify-full', rootcert: 'ca', host: 'localhost' })), {
      telemetry: false,
      size: 1,
      maxOverflow: 0,
    });
    try {
      const { rows } = await pool.use((c) =>
        c.query('select ssl from pg_stat_ssl where pid = pg_backend_pid()'),
      );
      expect(rows).toEqual([{ ssl: true }]);
      const conn = await pool.acquire();
      let trips = 0;
      (conn.raw as unknown as { connection: NodeJS.EventEmitter }).connection.on(
        'readyForQuery',
        () => trips++,
      );
      pool.release(conn);
      expect(trips).toBe(0);
      await pool.use(async (c) => {
        await c.query('begin');
      });
      const again = await pool.acquire();
      expect(again.raw.getTransactionStatus?.()).toBe('I');
      expect(trips).toBe(2); // begin, and the rollback at check-in
      pool.release(again);
    } finally {
      await pool.close();
    }
  });

  it('an ssl options object (ca, servername) works; plain text and an untrusted CA fail connect as ConnectErrors', async () => {
    const { pem } = primary.certs;
    const plain = new URL(primary.url({ sslmode: 'disable' }));
    const base = { host: '127.0.0.1', port: Number(plain.port), user: 'postgres', database: 'test' };
    const driver = pg({ ...base, ssl: { ca: pem.ca, servername: 'localhost' } });
    const conn = await driver.connect(connectCtx());
    expect((await conn.query('select ssl from pg_stat_ssl where pid = pg_backend_pid()')).rows).toEqual([
      { ssl: true },
    ]);
    await driver.close(conn);

    const refused = await pg(primary.url({ sslmode: 'disable' }))
      .connect(connectCtx())
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConnectError);
    expect((refused as Error).message).toMatch(/no encryption|pg_hba/);

    const untrusted = await pg(primary.url({ sslmode: 'verify-full', rootcert: 'other', host: 'localhost' }))
      .connect(connectCtx())
      .catch((e: unknown) => e);
    expect(untrusted).toBeInstanceOf(ConnectError);
    expect((untrusted as Error).message).toMatch(/certificate/i);
  });

  /** Connect one pg driver, run `sql`, close; the ConnectError (or other error) when connect fails. */
  async function tryPg(
    input: string | Parameters<typeof pg>[0],
    sql = 'select current_user as u, ssl from pg_stat_ssl where pid = pg_backend_pid()',
  ): Promise<Record<string, unknown> | Error> {
    const driver = typeof input === 'string' ? pg(input) : pg(input);
    const conn = await driver.connect(connectCtx({ timeoutMs: 10_000 })).catch((e: Error) => e);
    if (conn instanceof Error) return conn;
    try {
      return (await conn.query(sql)).rows[0] as Record<string, unknown>;
    } finally {
      await driver.close(conn);
    }
  }

  it("sslmode=require has libpq's meaning: encrypted, not verified (pg itself would verify fully and fail here)", async () => {
    // no sslrootcert: the test CA is in no trust store, and 127.0.0.2 is not in the certificate
    for (const host of ['127.0.0.1', '127.0.0.2']) {
      expect(await tryPg(primary.url({ sslmode: 'require', host }))).toEqual({ u: 'postgres', ssl: true });
    }
    // the same through the ssl option (a mode string wins over the URL's sslmode)
    const plain = new URL(primary.url({ sslmode: 'disable' }));
    const base = { host: '127.0.0.2', port: Number(plain.port), user: 'postgres', database: 'test' };
    expect(await tryPg({ ...base, ssl: 'require' })).toEqual({ u: 'postgres', ssl: true });
    // pg's own no-verify stays what it was
    expect(await tryPg(primary.url({ host: '127.0.0.2', params: { sslmode: 'no-verify' } }))).toEqual({
      u: 'postgres',
      ssl: true,
    });
    // and the pg.Pool face reads sslmode the same way
    const face = new Pool({
      connectionString: primary.url({ sslmode: 'require', host: '127.0.0.2' }),
      max: 1,
    });
    try {
      expect((await face.query('select ssl from pg_stat_ssl where pid = pg_backend_pid()')).rows).toEqual([
        { ssl: true },
      ]);
    } finally {
      await face.end();
    }
  });

  it('verify-ca checks the chain only: it passes on 127.0.0.2, which verify-full refuses saying the host name does not match', async () => {
    const onWrongName = { sslmode: 'verify-ca', rootcert: 'ca', host: '127.0.0.2' } as const;
    expect(await tryPg(primary.url(onWrongName))).toEqual({ u: 'postgres', ssl: true });
    // libpq: require with an sslrootcert verifies the CA as verify-ca does
    expect(await tryPg(primary.url({ ...onWrongName, sslmode: 'require' }))).toEqual({
      u: 'postgres',
      ssl: true,
    });
    const full = await tryPg(primary.url({ ...onWrongName, sslmode: 'verify-full' }));
    expect(full).toBeInstanceOf(ConnectError);
    expect((full as Error).message).toMatch(
      /TLS: the server certificate does not name the host 127\.0\.0\.2 \(sslmode verify-full\)/,
    );
    expect(((full as ConnectError).cause as { code?: string }).code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    // verify-full on a name the certificate has (IP:127.0.0.1) passes
    expect(await tryPg(primary.url({ ...onWrongName, sslmode: 'verify-full', host: '127.0.0.1' }))).toEqual({
      u: 'postgres',
      ssl: true,
    });
  });

  it('a wrong CA fails as a ConnectError saying the certificate is not trusted (verify-ca, verify-full, require with sslrootcert)', async () => {
    for (const sslmode of ['verify-ca', 'verify-full', 'require'] as const) {
      const error = await tryPg(primary.url({ sslmode, rootcert: 'other' }));
      expect(error, sslmode).toBeInstanceOf(ConnectError);
      expect((error as Error).message, sslmode).toMatch(
        /TLS: the server certificate is not trusted by the given CA \(sslrootcert\)/,
      );
    }
  });

  it('a client certificate (sslcert, sslkey in the URL, or cert/key in the ssl option) authenticates the cert role', async () => {
    const url = primary.url({ user: 'cert', sslmode: 'verify-ca', rootcert: 'ca', clientCert: true });
    expect(await tryPg(url)).toEqual({ u: 'cistern_cert', ssl: true });
    const { pem } = primary.certs;
    const plain = new URL(primary.url({ sslmode: 'disable' }));
    const base = { host: '127.0.0.1', port: Number(plain.port), user: 'cistern_cert', database: 'test' };
    expect(await tryPg({ ...base, ssl: { ca: pem.ca, cert: pem.clientCert, key: pem.clientKey } })).toEqual({
      u: 'cistern_cert',
      ssl: true,
    });
    // without the certificate the role is refused (pg_hba says cert)
    const refused = await tryPg(primary.url({ user: 'cert', sslmode: 'verify-ca', rootcert: 'ca' }));
    expect(refused).toBeInstanceOf(ConnectError);
    expect((refused as Error).message).toMatch(/certificate/i);
  });

  it('prefer and allow reach the TLS-only server over TLS; a bad sslmode or an unreadable file is a PoolConfigError', async () => {
    for (const sslmode of ['prefer', 'allow']) {
      expect(await tryPg(primary.url({ host: '127.0.0.2', params: { sslmode } }))).toEqual({
        u: 'postgres',
        ssl: true,
      });
    }
    expect(() => pg(primary.url({ params: { sslmode: 'verify' } }))).toThrow(PoolConfigError);
    expect(() => pg(primary.url({ params: { sslmode: 'verify' } }))).toThrow(
      /sslmode 'verify' is not one of/,
    );
    expect(() => pg(primary.url({ params: { sslrootcert: '/nonexistent/ca.pem' } }))).toThrow(
      /cannot read sslrootcert '\/nonexistent\/ca.pem'/,
    );
  });

  it('the pg.Pool face over TLS (a scram role: its password never in an error)', async () => {
    const pool = new Pool({
      connectionString: primary.url({
        user: 'scram',
        sslmode: 'verify-full',
        rootcert: 'ca',
        host: 'localhost',
      }),
      max: 2,
      telemetry: false,
    });
    try {
      const { rows } = await pool.query(
        'select current_user as u, ssl from pg_stat_ssl where pid = pg_backend_pid()',
      );
      expect(rows).toEqual([{ u: 'cistern_scram', ssl: true }]);
    } finally {
      await pool.end();
    }
    const wrong = new URL(
      primary.url({ user: 'scram', sslmode: 'verify-full', rootcert: 'ca', host: 'localhost' }),
    );
    wrong.password = 'pgd-wrong-secret';
    const error = await pg(wrong.toString())
      .connect(connectCtx())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as Error).message).not.toContain('pgd-wrong-secret');
    expect(((error as ConnectError).cause as { code?: string }).code).toBe('28P01');
  });
});

describe.runIf(available)('cistern/pg: a server restarted under load', () => {
  let node: PgNode;
  beforeAll(async () => {
    node = await startPgPrimary({ tls: false });
  }, 60_000);
  afterAll(async () => {
    await node?.destroy();
  });

  it('on a server without TLS: prefer and allow fall back to plain text, require fails saying TLS is not accepted', async () => {
    for (const sslmode of ['prefer', 'allow']) {
      const driver = pg(node.url({ params: { sslmode } }));
      const conn = await driver.connect(connectCtx());
      try {
        expect((await conn.query('select ssl from pg_stat_ssl where pid = pg_backend_pid()')).rows).toEqual([
          { ssl: false },
        ]);
      } finally {
        await driver.close(conn);
      }
    }
    const error = await pg(node.url({ params: { sslmode: 'require' } }))
      .connect(connectCtx())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as Error).message).toMatch(/does not support SSL/);
  });

  it('every caller settles (served or a disconnect / connect error), nothing unhandled, and the pool serves after the restart', async () => {
    const driver = pg(node.url());
    const pool = createPool(driver, { telemetry: false, size: 4, maxOverflow: 0, acquireTimeoutMs: 20_000 });
    const face = new Pool({
      connectionString: node.url(),
      max: 4,
      connectionTimeoutMillis: 20_000,
      telemetry: false,
    });
    try {
      await pool.use((c) => c.query('select 1'));
      await face.query('select 1');
      const outcomes: string[] = [];
      const calls: Promise<void>[] = [];
      for (let i = 0; i < 24; i++) {
        calls.push(
          pool
            .use((c) => c.query('select pg_sleep(0.2)'))
            .then(
              () => void outcomes.push('ok'),
              (e: unknown) =>
                void outcomes.push(
                  driver.isDisconnect(e) || e instanceof ConnectError ? 'failed' : `other ${e}`,
                ),
            ),
        );
        calls.push(
          face.query('select pg_sleep(0.2)').then(
            () => void outcomes.push('ok'),
            (e: Error) => void outcomes.push(isPgDisconnect(e) ? 'failed' : `other ${e}`),
          ),
        );
      }
      await new Promise((r) => setTimeout(r, 150));
      await node.stop({ mode: 'immediate' });
      await node.start();
      await Promise.all(calls);
      expect(outcomes.length).toBe(48);
      expect(outcomes.filter((o) => o.startsWith('other'))).toEqual([]);
      expect(outcomes).toContain('failed');
      expect((await pool.use((c) => c.query('select 1 as n'))).rows).toEqual([{ n: 1 }]);
      expect((await face.query('select 2 as n')).rows).toEqual([{ n: 2 }]);
    } finally {
      await pool.close();
      await face.end();
    }
  }, 60_000);
});
