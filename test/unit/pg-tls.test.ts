/**
 * `cistern/pg`'s TLS plan without a server (src/drivers/pg/pg-tls.ts): what is taken out of
 * the URL, what each sslmode hands pg as `ssl`, and what is left alone. The real handshakes
 * are in test/integration/pg-tls.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pgTls } from '../../src/drivers/pg/pg-tls.js';
import { PoolConfigError } from '../../src/index.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cistern-pg-tls-'));
const ca = path.join(dir, 'ca.pem');
fs.writeFileSync(ca, 'not really a certificate');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('pgTls', () => {
  it('leaves a config without TLS settings as it is (the same object)', () => {
    const input = { connectionString: 'postgres://u@h/db?application_name=x' };
    expect(pgTls(input).clientConfig).toBe(input);
  });

  it('takes sslmode, sslrootcert, sslcert, sslkey, ssl and uselibpqcompat out of the URL; the rest stays', () => {
    const url = `postgres://u:pw@h:5433/db?application_name=x&sslmode=require&sslrootcert=${encodeURIComponent(ca)}&uselibpqcompat=true&sslnegotiation=direct&connect_timeout=3`;
    const input: Record<string, unknown> = { connectionString: url };
    Object.defineProperty(input, 'password', { value: 'secret', enumerable: false });
    const { clientConfig, mode, plainFallback } = pgTls(input);
    expect(clientConfig.connectionString).toBe(
      'postgres://u:pw@h:5433/db?application_name=x&connect_timeout=3',
    );
    expect(clientConfig.sslnegotiation).toBe('direct');
    // libpq: require with a root certificate verifies the chain, not the name
    expect(mode).toBe('verify-ca');
    expect(plainFallback).toBe(false);
    const ssl = clientConfig.ssl as {
      ca?: Buffer;
      checkServerIdentity?: () => unknown;
      rejectUnauthorized?: boolean;
    };
    expect(ssl.ca?.toString()).toBe('not really a certificate');
    expect(ssl.checkServerIdentity?.()).toBeUndefined();
    expect(ssl.rejectUnauthorized).toBeUndefined();
    expect(Object.keys(clientConfig)).not.toContain('password');
    expect(clientConfig.password).toBe('secret');
  });

  it("each sslmode's ssl for pg", () => {
    const of = (sslmode: string) => pgTls({ connectionString: `postgres://u@h/db?sslmode=${sslmode}` });
    expect(of('disable').clientConfig.ssl).toBe(false);
    expect(of('require').clientConfig.ssl).toEqual({ rejectUnauthorized: false });
    expect(of('prefer')).toMatchObject({
      mode: 'prefer',
      plainFallback: true,
      clientConfig: { ssl: { rejectUnauthorized: false } },
    });
    expect(of('allow')).toMatchObject({ mode: 'allow', plainFallback: true });
    expect(of('verify-full').clientConfig.ssl).toEqual({});
    expect(of('no-verify').clientConfig.ssl).toEqual({ rejectUnauthorized: false });
    expect(() => of('verify')).toThrow(PoolConfigError);
    const missing = (() => {
      try {
        pgTls({ connectionString: 'postgres://u@h/db?sslcert=/nonexistent/client.pem' });
      } catch (error) {
        return error;
      }
    })();
    expect(missing).toBeInstanceOf(PoolConfigError);
    expect((missing as PoolConfigError).option).toBe('sslcert');
    expect((missing as PoolConfigError).message).toMatch(/cannot read sslcert/);
  });

  it('the ssl option wins over the URL', () => {
    const url = 'postgres://u@h/db?sslmode=verify-full';
    expect(pgTls({ connectionString: url, ssl: 'require' }).clientConfig.ssl).toEqual({
      rejectUnauthorized: false,
    });
    expect(pgTls({ connectionString: url, ssl: false }).clientConfig.ssl).toBe(false);
    expect(pgTls({ connectionString: url, ssl: { rejectUnauthorized: false } }).clientConfig.ssl).toEqual({
      rejectUnauthorized: false,
    });
    expect(() => pgTls({ ssl: 'sometimes' })).toThrow(/pg\(\): sslmode 'sometimes' is not one of/);
  });
});
