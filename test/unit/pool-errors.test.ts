import { describe, expect, it } from 'vitest';
import {
  abortReason,
  ConnectError,
  isPoolError,
  maskUrl,
  PoolClosedError,
  PoolConfigError,
  PoolError,
  PoolMisuseError,
  PoolQueueFullError,
  PoolTimeoutError,
} from '../../src/pool/errors.js';
import { makePool, rejection, useFakeClock } from '../support/pool-harness.js';

useFakeClock();

describe('error classes', () => {
  const cases = [
    [new PoolTimeoutError('t'), 'POOL_TIMEOUT', 'PoolTimeoutError', PoolTimeoutError],
    [new PoolClosedError(), 'POOL_CLOSED', 'PoolClosedError', PoolClosedError],
    [new PoolQueueFullError('q'), 'POOL_QUEUE_FULL', 'PoolQueueFullError', PoolQueueFullError],
    [new PoolMisuseError('m'), 'POOL_MISUSE', 'PoolMisuseError', PoolMisuseError],
    [new PoolConfigError('size', 'c'), 'POOL_CONFIG', 'PoolConfigError', PoolConfigError],
    [new ConnectError('x'), 'CONNECT_FAILED', 'ConnectError', ConnectError],
  ] as const;

  it.each(cases)(
    '%s has a stable code and name, and is a PoolError and an Error',
    (error, code, name, cls) => {
      expect(error.code).toBe(code);
      expect(error.name).toBe(name);
      expect(error).toBeInstanceOf(cls);
      expect(error).toBeInstanceOf(PoolError);
      expect(error).toBeInstanceOf(Error);
      expect(isPoolError(error)).toBe(true);
      expect(String(error)).toBe(`${name}: ${error.message}`);
      expect(error.stack).toContain(name);
    },
  );

  it('the subclasses are not instances of each other', () => {
    expect(new PoolTimeoutError('t')).not.toBeInstanceOf(PoolClosedError);
    expect(new ConnectError('c')).not.toBeInstanceOf(PoolTimeoutError);
    expect(new PoolError('POOL_MISUSE', 'x')).not.toBeInstanceOf(PoolMisuseError);
  });

  it('cause is kept when given and absent otherwise', () => {
    const root = new Error('root');
    expect(new PoolTimeoutError('t', { cause: root }).cause).toBe(root);
    expect(new ConnectError('c', { cause: root }).cause).toBe(root);
    expect('cause' in new PoolTimeoutError('t')).toBe(false);
    expect('cause' in new PoolClosedError()).toBe(false);
  });

  it('PoolClosedError has a default message; PoolConfigError names its option', () => {
    expect(new PoolClosedError().message).toMatch(/closed/);
    expect(new PoolConfigError('maxOverflow', 'bad').option).toBe('maxOverflow');
  });

  it('a plain error, null, a string or a look-alike is not a PoolError', () => {
    for (const value of [
      new Error('x'),
      null,
      undefined,
      'POOL_TIMEOUT',
      { code: 'POOL_TIMEOUT', name: 'PoolTimeoutError' },
      { 'cistern.PoolError': true },
    ]) {
      expect(isPoolError(value)).toBe(false);
      expect(value instanceof PoolError).toBe(false);
    }
  });
});

describe('errors across two installed copies of cistern', () => {
  it('isPoolError and instanceof PoolError recognise an error of another copy by its Symbol.for brand', async () => {
    // a second module instance of errors.ts, as a second installed copy would be
    type Errors = typeof import('../../src/pool/errors.js');
    // @ts-expect-error the query string is how Vite loads a second instance; TypeScript cannot resolve it
    const other = (await import('../../src/pool/errors.js?copy=2')) as Errors;
    expect(other.PoolError).not.toBe(PoolError);
    const foreign = new other.PoolTimeoutError('from the other copy', { cause: new Error('root') });
    expect(foreign).not.toBeInstanceOf(PoolTimeoutError); // a different class object
    expect(foreign instanceof PoolError).toBe(true); // but the base recognises the brand
    expect(isPoolError(foreign)).toBe(true);
    expect(other.isPoolError(new PoolClosedError())).toBe(true);
    expect(new PoolClosedError() instanceof other.PoolError).toBe(true);
    // so code is what to branch on
    expect(foreign.code).toBe('POOL_TIMEOUT');
  });

  it('the brand is a Symbol.for key, not an enumerable property', () => {
    const error = new PoolMisuseError('x');
    expect(Object.keys(error)).not.toContain('cistern.PoolError');
    expect((error as unknown as Record<symbol, unknown>)[Symbol.for('cistern.PoolError')]).toBe(true);
    expect(JSON.stringify({ ...error })).not.toContain('cistern');
  });
});

describe('abortReason()', () => {
  it("returns the signal's reason, or an AbortError when it carries none", () => {
    const controller = new AbortController();
    controller.abort('why');
    expect(abortReason(controller.signal)).toBe('why');
    const bare = abortReason({ aborted: true, reason: undefined } as AbortSignal) as Error;
    expect(bare).toBeInstanceOf(Error);
    expect(bare.name).toBe('AbortError');
  });
});

describe('maskUrl()', () => {
  it.each([
    ['postgres://user:secret@db.example:5432/app', 'postgres://user:***@db.example:5432/app'],
    ['postgresql://app:p%40ss%2Fw0rd@127.0.0.1/test', 'postgresql://app:***@127.0.0.1/test'],
    [
      'mariadb://root:hunter2@localhost:3306/test?connectTimeout=1000',
      'mariadb://root:***@localhost:3306/test?connectTimeout=1000',
    ],
    ['mongodb+srv://u:pa:ss@cluster0.example.net/db', 'mongodb+srv://u:***@cluster0.example.net/db'],
    [
      'MONGODB://U:P@H1:27017,H2:27017/db?replicaSet=rs0',
      'MONGODB://U:***@H1:27017,H2:27017/db?replicaSet=rs0',
    ],
    [
      'postgres://host/db?user=app&password=secret&sslmode=require',
      'postgres://host/db?user=app&password=***&sslmode=require',
    ],
    ['mysql://host/db?pwd=x1&pass=x2#frag', 'mysql://host/db?pwd=***&pass=***#frag'],
    ['postgres://host/db?PASSWORD=Secret', 'postgres://host/db?PASSWORD=***'],
  ])('masks %s', (url, masked) => {
    expect(maskUrl(url)).toBe(masked);
  });

  it.each([
    'postgres://user@db.example:5432/app',
    'postgres://db.example/app',
    'postgres://host/db?passwordless=true&user=app',
    'not a url at all',
    '',
  ])('leaves %j without a password alone', (url) => {
    expect(maskUrl(url)).toBe(url);
  });

  it('never shows the password, whatever it contains', () => {
    for (const password of ['s3cr3t', 'with:colon', 'UPPER', '%40encoded%2F']) {
      const masked = maskUrl(`postgres://app:${password}@h/db?password=${password}`);
      expect(masked).not.toContain(password);
    }
  });
});

describe('errors raised by the pool', () => {
  it('a ConnectError from the pool names the target and never the password in a URL of the cause', async () => {
    const secret = 'hunter2-very-secret';
    const raw = new Error(`connect ECONNREFUSED for postgres://app:${secret}@127.0.0.1:5432/test`);
    const { pool, log } = makePool({}, { connectError: raw });
    const error = (await rejection(pool.acquire())) as ConnectError;
    expect(error).toBeInstanceOf(ConnectError);
    expect(error.code).toBe('CONNECT_FAILED');
    expect(error.cause).toBe(raw);
    expect(error.message).toContain('fake at fake-host:1/db');
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.message).not.toContain(secret);
    const failed = log.of('connectFailed')[0].error as Error;
    expect(failed.message).not.toContain(secret);
  });
});
