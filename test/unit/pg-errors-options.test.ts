/** The pg driver's pure parts: error classification and option validation (no server needed). */
import { describe, expect, it } from 'vitest';
import { isPgDisconnect, isPgRetryable, pg } from '../../src/drivers/pg/index.js';
import { resolvePgOptions } from '../../src/drivers/pg/pg-options.js';
import { PoolConfigError } from '../../src/index.js';

function coded(code: string, message = 'x'): Error {
  return Object.assign(new Error(message), { code });
}

describe('pg errors', () => {
  it('disconnects: socket codes, SQLSTATE 08xxx and 57P01-03, pg code-less connection errors, nested causes', () => {
    for (const code of ['ECONNRESET', 'EPIPE', 'ECONNREFUSED', '08006', '08003', '57P01', '57P02', '57P03']) {
      expect(isPgDisconnect(coded(code))).toBe(true);
    }
    expect(isPgDisconnect(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isPgDisconnect(new Error('Client was closed and is not queryable'))).toBe(true);
    expect(isPgDisconnect(new Error('wrapper', { cause: coded('ECONNRESET') }))).toBe(true);
  });

  it('not disconnects: SQL errors, a code-carrying error whose text looks like one, non-errors', () => {
    expect(isPgDisconnect(coded('42P01'))).toBe(false);
    expect(isPgDisconnect(coded('23505', 'Connection terminated unexpectedly'))).toBe(false);
    expect(isPgDisconnect(new Error('Connection terminated unexpectedly!'))).toBe(false);
    expect(isPgDisconnect(undefined)).toBe(false);
    expect(isPgDisconnect('ECONNRESET')).toBe(false);
  });

  it('retryable: serialization failure and deadlock only', () => {
    expect(isPgRetryable(coded('40001'))).toBe(true);
    expect(isPgRetryable(coded('40P01'))).toBe(true);
    expect(isPgRetryable(coded('23505'))).toBe(false);
    expect(isPgRetryable(null)).toBe(false);
  });
});

describe('pg options', () => {
  it('rejects options the pool owns, naming the pool option to use', () => {
    const cases: [string, RegExp][] = [
      ['connectionTimeoutMillis', /connectTimeoutMs/],
      ['idleTimeoutMillis', /idleTimeoutMs/],
      ['max', /size and maxOverflow/],
      ['maxLifetimeSeconds', /maxLifetimeMs/],
      ['connection', /cannot be shared/],
    ];
    for (const [key, hint] of cases) {
      const error = (() => {
        try {
          pg({ [key]: 1 } as never);
        } catch (e) {
          return e;
        }
      })() as PoolConfigError;
      expect(error).toBeInstanceOf(PoolConfigError);
      expect(error.option).toBe(key);
      expect(error.message).toMatch(hint);
    }
  });

  it('rejects an unknown key with the allowed list, and bad values', () => {
    expect(() => pg({ databse: 'x' } as never)).toThrow(
      /unknown option 'databse'; allowed: connectionString/,
    );
    expect(() => pg({ connectionString: '' })).toThrow(PoolConfigError);
    expect(() => pg({ discardOnReset: 'yes' } as never)).toThrow(/discardOnReset must be a boolean/);
    expect(() => pg({ Client: 42 } as never)).toThrow(/Client must be a class/);
  });

  it('keeps the password out of enumeration and masks it in the display; application_name defaults to cistern', () => {
    const resolved = resolvePgOptions({ host: '127.0.0.1', user: 'app', password: 'pgd-secret' });
    expect(Object.keys(resolved.clientConfig)).not.toContain('password');
    expect(resolved.clientConfig.password).toBe('pgd-secret');
    expect(JSON.stringify(resolved.clientConfig)).not.toContain('pgd-secret');
    expect(resolved.clientConfig.application_name).toBe('cistern');
    const driver = pg('postgres://app:pgd-secret@127.0.0.1:5433/shop');
    expect(driver.display).toBe('postgres://app:***@127.0.0.1:5433/shop');
    expect(driver.target).toMatchObject({
      system: 'postgresql',
      host: '127.0.0.1',
      port: 5433,
      database: 'shop',
      user: 'app',
    });
  });
});
