import { describe, expect, it } from 'vitest';
import { mariadb } from '../../src/drivers/mariadb/index.js';
import { resolveMariadbOptions } from '../../src/drivers/mariadb/mariadb-options.js';
import { beginStatements } from '../../src/drivers/mariadb/transaction-sql.js';
import { PoolConfigError } from '../../src/pool/errors.js';

describe('mariadb options', () => {
  it('parses mariadb:// and mysql:// URLs into target and connector config', () => {
    const r = resolveMariadbOptions(
      'mariadb://app:s%40cret@db.example:3307/shop?pipelining=false&queryTimeout=500',
    );
    expect(r.target).toEqual({
      system: 'mariadb',
      host: 'db.example',
      port: 3307,
      database: 'shop',
      user: 'app',
    });
    expect(r.config).toMatchObject({
      host: 'db.example',
      port: 3307,
      user: 'app',
      database: 'shop',
      pipelining: false,
    });
    expect(r.config.queryTimeout).toBe(500);
    expect(r.config.password).toBe('s@cret');
    expect(r.display).toBe('mariadb://app:***@db.example:3307/shop');
    const m = resolveMariadbOptions('mysql://root@127.0.0.1/test');
    expect(m.target).toMatchObject({ system: 'mysql', host: '127.0.0.1', port: 3306, database: 'test' });
    expect(m.display).toBe('mysql://root@127.0.0.1:3306/test');
  });

  it('keeps the password out of enumeration, JSON and the display text', () => {
    const r = resolveMariadbOptions('mariadb://app:hunter2@h/db');
    expect(Object.keys(r.config)).not.toContain('password');
    expect(JSON.stringify(r)).not.toContain('hunter2');
    expect(r.display).not.toContain('hunter2');
    const o = resolveMariadbOptions({ host: 'h', user: 'u', password: 'hunter2' });
    expect(JSON.stringify(o)).not.toContain('hunter2');
    expect(o.config.password).toBe('hunter2');
  });

  it('forces logParam and trace off and drops connectTimeout (the pool decides it)', () => {
    const r = resolveMariadbOptions({ host: 'h', logParam: true, connectTimeout: 1, trace: true } as never);
    expect(r.config.logParam).toBe(false);
    expect(r.config.trace).toBe(false);
    expect(r.config.connectTimeout).toBeUndefined();
    const u = resolveMariadbOptions('mariadb://h/db?logParam=true&connectTimeout=1');
    expect(u.config.logParam).toBe(false);
    expect(u.config.connectTimeout).toBeUndefined();
  });

  it('explicit options override the URL; driver settings are split out', () => {
    const r = resolveMariadbOptions('mariadb://u:p@h:1/db', {
      port: 2,
      resetConnection: true,
      pingTimeoutMs: 100,
    });
    expect(r.config.port).toBe(2);
    expect(r.target.port).toBe(2);
    expect(r.settings).toEqual({ resetConnection: true, pingTimeoutMs: 100, retryLockWaitTimeout: false });
    expect(r.config.resetConnection).toBeUndefined();
    expect(r.config.password).toBe('p');
    const viaUrl = resolveMariadbOptions({ url: 'mariadb://u@h/db', database: 'other' });
    expect(viaUrl.target.database).toBe('other');
  });

  it('a bad URL throws PoolConfigError with the password masked', () => {
    for (const bad of ['postgres://u:hunter2@h/db', 'mariadb://u:hunter2@[bad/db']) {
      let error: unknown;
      try {
        resolveMariadbOptions(bad);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(PoolConfigError);
      expect(String((error as Error).message)).not.toContain('hunter2');
    }
  });

  it('the driver starts as mariadb and describes its target', () => {
    const d = mariadb({ host: '127.0.0.1', user: 'u', database: 'd' });
    expect(d.name).toBe('mariadb');
    expect(d.target).toEqual({ system: 'mariadb', host: '127.0.0.1', port: 3306, database: 'd', user: 'u' });
  });
});

describe('mariadb transaction statements', () => {
  it('builds START TRANSACTION with isolation and read-only', () => {
    expect(beginStatements({})).toEqual(['START TRANSACTION']);
    expect(beginStatements({ readOnly: true })).toEqual(['START TRANSACTION READ ONLY']);
    expect(beginStatements({ isolation: 'serializable' })).toEqual([
      'SET TRANSACTION ISOLATION LEVEL SERIALIZABLE',
      'START TRANSACTION',
    ]);
    expect(beginStatements({ isolation: 'read uncommitted', readOnly: true })).toEqual([
      'SET TRANSACTION ISOLATION LEVEL READ UNCOMMITTED',
      'START TRANSACTION READ ONLY',
    ]);
  });

  it('refuses anything else as an isolation level (no SQL injection through options)', () => {
    expect(() => beginStatements({ isolation: 'serializable; DROP TABLE x' as never })).toThrow(TypeError);
    expect(() => beginStatements({ isolation: 'toString' as never })).toThrow(TypeError);
  });
});
