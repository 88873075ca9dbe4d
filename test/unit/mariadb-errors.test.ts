import { describe, expect, it } from 'vitest';
import { isMariadbDisconnect, isMariadbRetryable } from '../../src/drivers/mariadb/mariadb-errors.js';

function sqlError(fields: Record<string, unknown>): Error {
  return Object.assign(new Error('x'), fields);
}

describe('mariadb isDisconnect', () => {
  it.each([
    ['socket closed 45009', { errno: 45009, fatal: true, sqlState: '08S01' }],
    ['connection closed 45013', { errno: 45013, fatal: true, sqlState: '08S01' }],
    ['connect timeout 45012', { errno: 45012, fatal: true, sqlState: '08S01' }],
    ['socket timeout 45026', { errno: 45026, fatal: true }],
    ['ping timeout 45042', { errno: 45042, fatal: true, sqlState: '0A000' }],
    ['killed 1927', { errno: 1927, fatal: true, sqlState: '70100' }],
    ['server shutdown 1053', { errno: 1053, sqlState: '08S01' }],
    ['client interaction timeout 4031', { errno: 4031, sqlState: 'HY000' }],
    ['ECONNRESET', { code: 'ECONNRESET', fatal: true, sqlState: 'HY000' }],
    ['EPIPE', { code: 'EPIPE' }],
    ['ECONNREFUSED', { code: 'ECONNREFUSED' }],
    ['ETIMEDOUT', { code: 'ETIMEDOUT' }],
    ['any 08 SQLSTATE', { errno: 2000, sqlState: '08004' }],
    ['a connector fatal error', { errno: 45011, fatal: true }],
  ])('%s is a disconnect', (_, fields) => {
    expect(isMariadbDisconnect(sqlError(fields))).toBe(true);
  });

  it.each([
    ['duplicate key 1062', { errno: 1062, sqlState: '23000', fatal: false }],
    ['deadlock 1213', { errno: 1213, sqlState: '40001', fatal: false }],
    ['syntax 1064', { errno: 1064, sqlState: '42000', fatal: false }],
    ['KILL QUERY 1317 (fatal flag, connection survives)', { errno: 1317, sqlState: '70100', fatal: true }],
    ['max_statement_time 1969', { errno: 1969, sqlState: '70100', fatal: true }],
    ['plain Error', {}],
  ])('%s is not a disconnect', (_, fields) => {
    expect(isMariadbDisconnect(sqlError(fields))).toBe(false);
  });

  it('looks through a cause chain, and accepts non-errors', () => {
    const wrapped = new Error('outer', { cause: sqlError({ code: 'ECONNRESET' }) });
    expect(isMariadbDisconnect(wrapped)).toBe(true);
    expect(isMariadbDisconnect(undefined)).toBe(false);
    expect(isMariadbDisconnect('ECONNRESET')).toBe(false);
  });
});

describe('mariadb isRetryable', () => {
  it('deadlocks and serialization failures are retryable', () => {
    expect(isMariadbRetryable(sqlError({ errno: 1213, sqlState: '40001' }))).toBe(true);
    expect(isMariadbRetryable(sqlError({ errno: 9999, sqlState: '40001' }))).toBe(true);
    expect(isMariadbRetryable(sqlError({ errno: 1020, sqlState: 'HY000' }))).toBe(true);
  });

  it('a lock wait timeout only when asked', () => {
    const e = sqlError({ errno: 1205, sqlState: 'HY000' });
    expect(isMariadbRetryable(e)).toBe(false);
    expect(isMariadbRetryable(e, true)).toBe(true);
  });

  it('other errors are not retryable', () => {
    expect(isMariadbRetryable(sqlError({ errno: 1062, sqlState: '23000' }))).toBe(false);
    expect(isMariadbRetryable(sqlError({ errno: 45009, fatal: true }))).toBe(false);
    expect(isMariadbRetryable(null)).toBe(false);
  });
});
