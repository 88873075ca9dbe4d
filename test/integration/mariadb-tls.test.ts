/**
 * TLS for the mariadb driver against a temporary TLS-only MariaDB
 * (test/support/mariadb-server.ts: require_secure_transport=ON, a test CA, a
 * client-certificate user): URL parameters and the `ssl` option, and every TLS
 * failure as a ConnectError that says what is wrong — never with the password.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mariadb } from '../../src/drivers/mariadb/index.js';
import { parseMariadbUrl } from '../../src/drivers/mariadb/url.js';
import { createPool, PoolConfigError } from '../../src/index.js';
import {
  MARIADB_TLS_USERS,
  type MariadbServer,
  mariadbServerAvailable,
  startMariadbTls,
} from '../support/mariadb-server.js';

const available = await mariadbServerAvailable();
const SECRET = MARIADB_TLS_USERS.tls.password;

describe('mariadb TLS URL parameters (parsing)', () => {
  it('sslmode and friends become the connector ssl option', () => {
    expect(parseMariadbUrl('mariadb://u@h/db?ssl=true').ssl).toBe(true);
    expect(parseMariadbUrl('mariadb://u@h/db?ssl=false').ssl).toBe(false);
    expect(parseMariadbUrl('mariadb://u@h/db?sslmode=disable').ssl).toBe(false);
    expect(parseMariadbUrl('mariadb://u@h/db?sslmode=require').ssl).toEqual({ rejectUnauthorized: false });
    expect(parseMariadbUrl('mariadb://u@h/db?ssl-mode=VERIFY_IDENTITY').ssl).toEqual({
      rejectUnauthorized: true,
    });
    const ca = parseMariadbUrl('mariadb://u@h/db?sslmode=verify-ca').ssl as Record<string, unknown>;
    expect(ca.rejectUnauthorized).toBe(true);
    expect(typeof ca.checkServerIdentity).toBe('function');
    expect(parseMariadbUrl('mariadb://u@h/db?ssl={"rejectUnauthorized":false}').ssl).toEqual({
      rejectUnauthorized: false,
    });
  });

  it.each([
    ['sslmode=prefer', 'sslmode', /cannot fall back between TLS and plain text/],
    ['sslmode=bogus', 'sslmode', /expected disable, require, verify-ca or verify-full/],
    ['ssl=maybe', 'ssl', /expected true, false or a JSON object/],
    ['sslcert=/x.pem', 'sslkey', /sslcert and sslkey go together/],
    ['sslrootcert=/nonexistent/ca.pem', 'sslrootcert', /cannot read \/nonexistent\/ca.pem \(ENOENT\)/],
  ])('?%s is refused naming %s', (query, option, message) => {
    let error: unknown;
    try {
      parseMariadbUrl(`mariadb://u:pw@h/db?${query}`);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PoolConfigError);
    expect(error).toMatchObject({ option, message: expect.stringMatching(message) });
  });
});

describe.runIf(available)('mariadb TLS against a server that requires secure transport', () => {
  let server: MariadbServer;

  beforeAll(async () => {
    server = await startMariadbTls();
  });
  afterAll(async () => {
    await server?.destroy();
  });

  async function tlsVersion(url: string, options: Record<string, unknown> = {}): Promise<string> {
    const pool = createPool(mariadb(url, options), {
      telemetry: false,
      connectTimeoutMs: 5000,
      acquireTimeoutMs: 5000,
      size: 1,
      maxOverflow: 0,
    });
    try {
      const rows = await pool.use((c) =>
        c.query<{ Value: string }[]>("show session status like 'Ssl_version'"),
      );
      // a second checkout: check-in (reset) over TLS leaves a working connection
      await pool.transaction((c) => c.query('select 1'));
      return rows[0]!.Value;
    } finally {
      await pool.close();
    }
  }

  async function failure(url: string, options: Record<string, unknown> = {}): Promise<Error> {
    const error = await tlsVersion(url, options).then(
      () => new Error('connected, expected a failure'),
      (e: unknown) => e as Error,
    );
    expect(error).toMatchObject({ code: 'CONNECT_FAILED', name: 'ConnectError' });
    expect(error.message).not.toContain(SECRET);
    return error;
  }

  it('plain text is refused, and the error says TLS was not used', async () => {
    const error = await failure(server.url());
    expect(error.message).toMatch(/did not use TLS: a server with require_secure_transport=ON refuses/);
  });

  it('verify-full with the CA from the URL', async () => {
    expect(
      await tlsVersion(server.url({ params: { sslmode: 'verify-full', sslrootcert: server.certs.ca } })),
    ).toMatch(/^TLSv1\.[23]$/);
    // a CA alone means verify-full
    expect(await tlsVersion(server.url({ params: { sslca: server.certs.ca } }))).toMatch(/^TLSv1/);
  });

  it("the ssl option (the connector's) with the CA", async () => {
    expect(await tlsVersion(server.url(), { ssl: { ca: server.certs.pem.ca } })).toMatch(/^TLSv1/);
  });

  it('sslmode=require encrypts without verifying', async () => {
    expect(await tlsVersion(server.url({ params: { sslmode: 'require' } }))).toMatch(/^TLSv1/);
  });

  it('a CA that did not sign the server certificate fails as untrusted', async () => {
    const viaUrl = await failure(
      server.url({ params: { sslmode: 'verify-full', sslrootcert: server.certs.otherCa } }),
    );
    expect(viaUrl.message).toMatch(
      /TLS: the server's certificate is not trusted \(.*\): give the CA that signed it/,
    );
    // ssl=true trusts Node's CA store only
    const systemCas = await failure(server.url({ params: { ssl: 'true' } }));
    expect(systemCas.message).toMatch(/TLS: the server's certificate is not trusted/);
  });

  it('a host name the certificate does not list fails verify-full, passes verify-ca', async () => {
    const params = { sslrootcert: server.certs.ca };
    const error = await failure(
      server.url({ host: '127.0.0.2', params: { ...params, sslmode: 'verify-full' } }),
    );
    expect(error.message).toMatch(/TLS: the server's certificate does not name the host 127\.0\.0\.2/);
    expect(
      await tlsVersion(server.url({ host: '127.0.0.2', params: { ...params, sslmode: 'verify-ca' } })),
    ).toMatch(/^TLSv1/);
  });

  it('a client certificate logs in the user that requires it; without it the login is refused', async () => {
    const { ca, clientCert, clientKey } = server.certs;
    const url = server.url({
      user: 'cert',
      params: { sslmode: 'verify-full', sslrootcert: ca, sslcert: clientCert, sslkey: clientKey },
    });
    const pool = createPool(mariadb(url), { telemetry: false, size: 1 });
    try {
      expect(await pool.use((c) => c.query<{ u: string }[]>('select current_user() as u'))).toEqual([
        { u: 'cistern_cert@127.0.0.%' },
      ]);
    } finally {
      await pool.close();
    }
    const error = await failure(
      server.url({ user: 'cert', params: { sslmode: 'verify-full', sslrootcert: ca } }),
    );
    expect(error.message).toMatch(/Access denied for user 'cistern_cert'/);
  });
});
