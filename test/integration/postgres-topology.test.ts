/**
 * The postgres.js driver on real topologies (issue 14.2, 14.3), on temporary servers
 * from the topology harness (test/support/pg-cluster.ts: a TLS-only primary and a hot
 * standby of it, certificates made with openssl at test time): sslmode require /
 * verify-full with sslrootcert, a wrong CA and a wrong host name failing as a
 * ConnectError that says so, a client certificate, and a multi-host URL with
 * target_session_attrs walking past a standby.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgres } from '../../src/drivers/postgres/index.js';
import { ConnectError } from '../../src/pool/errors.js';
import {
  multiHostUrl,
  type PgNode,
  pgClusterAvailable,
  startPgPrimary,
  startPgStandby,
} from '../support/pg-cluster.js';
import { connectCtx } from '../support/postgres.js';

const available = await pgClusterAvailable();

/** Connect with a URL or options, and ask the server whether it is a standby. */
async function inRecovery(options: Parameters<typeof postgres>[0]): Promise<boolean> {
  const driver = postgres(options);
  const conn = await driver.connect(connectCtx({ timeoutMs: 10_000 }));
  try {
    const [row] = await conn.sql<{ r: boolean }[]>`select pg_is_in_recovery() as r`;
    return row!.r;
  } finally {
    await driver.close(conn);
  }
}

describe.skipIf(!available)('postgres driver on a TLS-only primary and its standby', () => {
  let primary: PgNode;
  let standby: PgNode;
  beforeAll(async () => {
    primary = await startPgPrimary();
    standby = await startPgStandby(primary);
  }, 120_000);
  afterAll(async () => {
    await standby?.destroy();
    await primary?.destroy();
  });

  it('sslmode=require reaches the TLS-only server; plain text is refused as a ConnectError', async () => {
    expect(await inRecovery(primary.url({ sslmode: 'require' }))).toBe(false);
    const error = await postgres(primary.url({ sslmode: 'disable' }))
      .connect(connectCtx())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as Error).message).toMatch(/pg_hba|no encryption/i);
  });

  it('verify-full with sslrootcert: verified; a wrong CA or host name fails saying so', async () => {
    expect(await inRecovery(primary.url({ sslmode: 'verify-full', rootcert: 'ca' }))).toBe(false);
    const wrongCa = await postgres(primary.url({ sslmode: 'verify-full', rootcert: 'other' }))
      .connect(connectCtx())
      .catch((e: unknown) => e);
    expect(wrongCa).toBeInstanceOf(ConnectError);
    expect((wrongCa as Error).message).toMatch(/certificate/i);
    const wrongHost = await postgres(
      primary.url({ sslmode: 'verify-full', rootcert: 'ca', host: '127.0.0.2' }),
    )
      .connect(connectCtx())
      .catch((e: unknown) => e);
    expect(wrongHost).toBeInstanceOf(ConnectError);
    expect((wrongHost as Error).message).toMatch(/altnames|host ?name|IP: 127\.0\.0\.2/i);
  });

  it('verify-ca checks the chain only: it passes on 127.0.0.2, where verify-full fails saying the host name does not match', async () => {
    const onWrongName = { sslmode: 'verify-ca', rootcert: 'ca', host: '127.0.0.2' } as const;
    expect(await inRecovery(primary.url(onWrongName))).toBe(false);
    // libpq: require with an sslrootcert verifies the CA as verify-ca does, also on 127.0.0.2
    expect(await inRecovery(primary.url({ ...onWrongName, sslmode: 'require' }))).toBe(false);
    const full = await postgres(primary.url({ ...onWrongName, sslmode: 'verify-full' }))
      .connect(connectCtx())
      .catch((e: unknown) => e);
    expect(full).toBeInstanceOf(ConnectError);
    expect((full as Error).message).toMatch(
      /TLS: the server certificate does not name the host 127\.0\.0\.2 \(sslmode verify-full\)/,
    );
    // verify-ca still checks the chain: a wrong CA fails it
    const wrongCa = await postgres(primary.url({ ...onWrongName, rootcert: 'other' }))
      .connect(connectCtx())
      .catch((e: unknown) => e);
    expect(wrongCa).toBeInstanceOf(ConnectError);
    expect((wrongCa as Error).message).toMatch(/TLS: the server certificate is not trusted by the given CA/);
  });

  it('the ssl option object (ca, cert, key): verified against its CA, host name checked; a wrong CA is not trusted', async () => {
    const { pem } = primary.certs;
    const base = { port: primary.port, user: 'postgres', database: 'test' };
    expect(await inRecovery({ ...base, host: '127.0.0.1', ssl: { ca: pem.ca } })).toBe(false);
    // an object is verify-full: 127.0.0.2 is not in the certificate
    const wrongName = await postgres({ ...base, host: '127.0.0.2', ssl: { ca: pem.ca } })
      .connect(connectCtx())
      .catch((e: unknown) => e);
    expect(wrongName).toBeInstanceOf(ConnectError);
    expect((wrongName as Error).message).toMatch(/does not name the host 127\.0\.0\.2/);
    const wrongCa = await postgres({ ...base, host: '127.0.0.1', ssl: { ca: pem.otherCa } })
      .connect(connectCtx())
      .catch((e: unknown) => e);
    expect(wrongCa).toBeInstanceOf(ConnectError);
    expect((wrongCa as Error).message).toMatch(/not trusted by the given CA/);
    // the client-certificate role with cert and key in the object
    const cert = { ...base, host: '127.0.0.1', user: 'cistern_cert' };
    const driver = postgres({ ...cert, ssl: { ca: pem.ca, cert: pem.clientCert, key: pem.clientKey } });
    const conn = await driver.connect(connectCtx());
    try {
      const [row] = await conn.sql<{ u: string; ssl: boolean }[]>`
        select current_user as u, ssl from pg_stat_ssl where pid = pg_backend_pid()`;
      expect(row).toEqual({ u: 'cistern_cert', ssl: true });
    } finally {
      await driver.close(conn);
    }
  });

  it('a client certificate (sslcert, sslkey) authenticates', async () => {
    const url = primary.url({ user: 'cert', sslmode: 'verify-full', rootcert: 'ca', clientCert: true });
    expect(await inRecovery(url)).toBe(false);
  });

  it('read-write with the standby listed first: the walk skips it to the primary', async () => {
    const url = multiHostUrl([standby, primary], { params: { target_session_attrs: 'read-write' } });
    expect(await inRecovery(url)).toBe(false);
    const primaryFirst = multiHostUrl([primary, standby], { params: { target_session_attrs: 'standby' } });
    expect(await inRecovery(primaryFirst)).toBe(true);
    const prefer = multiHostUrl([primary, standby], { params: { target_session_attrs: 'prefer-standby' } });
    expect(await inRecovery(prefer)).toBe(true);
    const readOnly = multiHostUrl([primary, standby], { params: { target_session_attrs: 'read-only' } });
    expect(await inRecovery(readOnly)).toBe(true);
    const primaryLast = multiHostUrl([standby, primary], { params: { target_session_attrs: 'primary' } });
    expect(await inRecovery(primaryLast)).toBe(false);
    const preferNone = multiHostUrl([primary], { params: { target_session_attrs: 'prefer-standby' } });
    expect(await inRecovery(preferNone)).toBe(false);
  });

  it('reset under TLS: no round trip when idle (the gate reads the decrypted stream), ROLLBACK when a transaction is open', async () => {
    const driver = postgres(primary.url({ sslmode: 'verify-full', rootcert: 'ca' }));
    const conn = await driver.connect(connectCtx());
    try {
      await conn.sql`select 1`;
      expect(driver.reset?.(conn)).toBeUndefined();
      await conn.sql`begin`;
      await conn.sql`select 1`;
      const pending = driver.reset?.(conn);
      expect(pending).toBeInstanceOf(Promise);
      await pending;
      expect(driver.reset?.(conn)).toBeUndefined();
      const [row] = await conn.sql<
        { ssl: boolean }[]
      >`select ssl from pg_stat_ssl where pid = pg_backend_pid()`;
      expect(row?.ssl).toBe(true);
    } finally {
      await driver.close(conn);
    }
  });

  it('no host fits: one ConnectError naming each host and why', async () => {
    const url = multiHostUrl([standby, standby], { params: { target_session_attrs: 'primary' } });
    const error = await postgres(url)
      .connect(connectCtx({ timeoutMs: 10_000 }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as Error).message).toContain(`127.0.0.1:${standby.port}: a hot standby, not primary`);
  });

  it('a primary passed over for standby is named read-write, not read-only', async () => {
    const url = multiHostUrl([primary], { params: { target_session_attrs: 'standby' } });
    const error = await postgres(url)
      .connect(connectCtx({ timeoutMs: 10_000 }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as Error).message).toContain(`127.0.0.1:${primary.port}: read-write, not standby`);
  });

  it('in a pool over a multi-host TLS URL every connection lands on the primary', async () => {
    // the pool over a multi-host TLS URL: each new connection walks; a served one never moves
    const { createPool } = await import('../../src/index.js');
    const pool = createPool(
      postgres(multiHostUrl([standby, primary], { params: { target_session_attrs: 'read-write' } })),
      { size: 2, maxOverflow: 0, telemetry: false },
    );
    try {
      const results = await Promise.all(
        [1, 2, 3, 4].map(() => pool.use((c) => c.sql<{ r: boolean }[]>`select pg_is_in_recovery() as r`)),
      );
      expect(results.every((rows) => rows[0]?.r === false)).toBe(true);
    } finally {
      await pool.close();
    }
  });
  /** Where a multi-host URL with these attrs lands: the server's port and whether it is a standby. */
  async function landsOn(nodes: PgNode[], attrs: string): Promise<{ port: number; standby: boolean }> {
    const driver = postgres(multiHostUrl(nodes, { params: { target_session_attrs: attrs } }));
    const conn = await driver.connect(connectCtx({ timeoutMs: 10_000 }));
    try {
      const [row] = await conn.sql<{ port: number; r: boolean }[]>`
        select inet_server_port() as port, pg_is_in_recovery() as r`;
      return { port: row!.port, standby: row!.r };
    } finally {
      await driver.close(conn);
    }
  }

  it('any takes the first host that answers, a standby included', async () => {
    expect(await landsOn([standby, primary], 'any')).toEqual({ port: standby.port, standby: true });
    expect(await landsOn([primary, standby], 'any')).toEqual({ port: primary.port, standby: false });
  });

  it('a read-only server that is not a standby (default_transaction_read_only=on): read-write skips it, read-only takes it', async () => {
    const readOnly = await startPgPrimary({ settings: { default_transaction_read_only: 'on' } });
    try {
      const onReadOnly = { port: readOnly.port, standby: false };
      expect(await landsOn([readOnly, primary], 'read-write')).toEqual({
        port: primary.port,
        standby: false,
      });
      expect(await landsOn([primary, readOnly], 'read-only')).toEqual(onReadOnly);
      // libpq: primary and standby look at recovery only
      expect(await landsOn([readOnly, primary], 'primary')).toEqual(onReadOnly);
      const error = await postgres(
        multiHostUrl([readOnly], { params: { target_session_attrs: 'read-write' } }),
      )
        .connect(connectCtx({ timeoutMs: 10_000 }))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectError);
      expect((error as Error).message).toContain(`127.0.0.1:${readOnly.port}: read-only, not read-write`);
    } finally {
      await readOnly.destroy();
    }
  }, 60_000);

  it('prefer-standby with the standby down goes to the primary; standby then fails naming both hosts', async () => {
    await standby.stop({ mode: 'immediate' });
    try {
      expect(await landsOn([standby, primary], 'prefer-standby')).toEqual({
        port: primary.port,
        standby: false,
      });
      const error = await postgres(
        multiHostUrl([standby, primary], { params: { target_session_attrs: 'standby' } }),
      )
        .connect(connectCtx({ timeoutMs: 10_000 }))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectError);
      expect((error as Error).message).toContain(`127.0.0.1:${standby.port}: `);
      expect((error as Error).message).toContain(`127.0.0.1:${primary.port}: read-write, not standby`);
    } finally {
      await standby.start();
    }
  }, 60_000);
});
