/**
 * The topology harness itself (test/support/pg-cluster.ts, certs.ts): a TLS-only
 * primary refuses plain text, serves scram and client-certificate roles over TLS,
 * and a standby streams from it and is promoted. Plain postgres.js as the client:
 * this checks the servers, not cistern.
 */
import postgresjs from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PgNode, pgClusterAvailable, startPgPrimary, startPgStandby } from '../support/pg-cluster.js';

const available = await pgClusterAvailable();

describe.runIf(available)('topology harness: PostgreSQL', () => {
  let primary: PgNode;
  let standby: PgNode;

  beforeAll(async () => {
    primary = await startPgPrimary();
    standby = await startPgStandby(primary);
  });
  afterAll(async () => {
    await standby?.destroy();
    await primary?.destroy();
  });

  async function one(url: string, options: postgresjs.Options<{}> = {}): Promise<string> {
    const sql = postgresjs(url, { max: 1, onnotice: () => {}, ...options });
    try {
      const [row] = await sql<{ u: string }[]>`select current_user as u`;
      return row!.u;
    } finally {
      await sql.end({ timeout: 1 });
    }
  }

  it('refuses plain text and serves TLS with ssl on', async () => {
    expect(await primary.query('show ssl')).toBe('on');
    await expect(one(primary.url({ sslmode: 'disable' }))).rejects.toThrow(/no encryption/);
    expect(await one(primary.url())).toBe('postgres');
  });

  it('serves a scram role and a client-certificate role', async () => {
    expect(await one(primary.url({ user: 'scram' }))).toBe('cistern_scram');
    const { pem } = primary.certs;
    expect(
      await one(primary.url({ user: 'cert', sslmode: 'disable' }), {
        ssl: { ca: pem.ca, cert: pem.clientCert, key: pem.clientKey, servername: 'localhost' },
      }),
    ).toBe('cistern_cert');
    await expect(
      one(primary.url({ user: 'cert', sslmode: 'disable' }), {
        ssl: { ca: pem.ca, servername: 'localhost' },
      }),
    ).rejects.toThrow(/certificate/);
  });

  it('streams to the standby, which is read-only until promoted', async () => {
    await primary.query('create table topo_harness (x int); insert into topo_harness values (42)');
    await standby.waitForReplay(primary);
    expect(await standby.isInRecovery()).toBe(true);
    expect(await standby.query('select x from topo_harness')).toBe('42');
    await expect(standby.query('insert into topo_harness values (1)')).rejects.toThrow(/read-only/);
    await primary.stop({ mode: 'immediate' });
    expect(primary.running()).toBe(false);
    await standby.promote();
    expect(await standby.isInRecovery()).toBe(false);
    await standby.query('insert into topo_harness values (1)');
    expect(await standby.query('select count(*) from topo_harness')).toBe('2');
  });
});
