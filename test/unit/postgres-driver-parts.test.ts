/** Pure parts of the PostgreSQL driver: protocol framing, error classification, statements, config. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isDisconnectError, isRetryableError } from '../../src/drivers/postgres/index.js';
import { resolveConfig } from '../../src/drivers/postgres/postgres-options.js';
import { TransactionStatus } from '../../src/drivers/postgres/transaction-status.js';
import { beginStatement } from '../../src/drivers/postgres-transaction-sql.js';

function message(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}
const ready = (status: 'I' | 'T' | 'E') => message('Z', Buffer.from(status, 'latin1'));
const dataRow = (text: string) => message('D', Buffer.from(text));
const complete = (tag: string) => message('C', Buffer.from(`${tag}\0`));

describe('TransactionStatus (ReadyForQuery framing)', () => {
  it('follows the status byte of each ReadyForQuery', () => {
    const s = new TransactionStatus();
    s.onData(Buffer.concat([complete('BEGIN'), ready('T')]));
    expect(s.inTransaction).toBe(true);
    s.onData(Buffer.concat([complete('ROLLBACK'), ready('I')]));
    expect(s.inTransaction).toBe(false);
    s.onData(ready('E'));
    expect(s.status).toBe(69);
  });

  it('is not fooled by row data that looks like a ReadyForQuery, at any chunk split', () => {
    // A data row whose payload contains "Z\0\0\0\x05I"; the real status is 'T'.
    const stream = Buffer.concat([
      dataRow('xxZ\0\0\0\x05Ixx'),
      dataRow('Z\0\0\0\x05I'),
      complete('SELECT 2'),
      ready('T'),
      dataRow('a'.repeat(300)),
      complete('SELECT 1'),
      ready('T'),
    ]);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 8 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const s = new TransactionStatus();
        let from = 0;
        for (const p of [...points, stream.length]) {
          s.onData(stream.subarray(from, p));
          from = p;
        }
        expect(String.fromCharCode(s.status)).toBe('T');
      }),
      { numRuns: 300 },
    );
  });

  it('a length below 4 (not PostgreSQL framing) leaves the status unknown until restart, and never loops', () => {
    const s = new TransactionStatus();
    s.onData(ready('I'));
    expect(s.inTransaction).toBe(false);
    // a message whose length field is 0xffffffff (-1 as an int32) and one of 0
    s.onData(Buffer.from([0x44, 0xff, 0xff, 0xff, 0xff, 0x49, 0x5a, 0, 0, 0, 5, 0x49]));
    expect(s.inTransaction).toBe(true);
    s.onData(ready('I'));
    expect(s.inTransaction).toBe(true);
    s.restart();
    s.onData(Buffer.concat([dataRow('x'), ready('I')]));
    expect(s.inTransaction).toBe(false);
    s.onData(Buffer.from([0x44, 0, 0, 0, 0, 0x5a, 0, 0, 0, 5, 0x49]));
    expect(s.inTransaction).toBe(true);
  });

  it('follows a long stream of rows cut into chunks of every size', () => {
    const rows = Array.from({ length: 100 }, (_, i) => dataRow(String(i)));
    const stream = Buffer.concat([
      ready('T'),
      ...rows,
      complete('SELECT 100'),
      ready('E'),
      ...rows,
      ready('T'),
    ]);
    for (let size = 1; size <= 40; size++) {
      const s = new TransactionStatus();
      const seen: number[] = [];
      for (let from = 0; from < stream.length; from += size) {
        s.onData(stream.subarray(from, from + size));
        seen.push(s.status);
      }
      expect(String.fromCharCode(s.status)).toBe('T');
      // the 'E' in the middle was seen at some point
      expect(seen).toContain(69);
    }
  });

  it('onRead (a shared socket: the same read buffer every time) follows the stream as onData does', () => {
    const rows = Array.from({ length: 60 }, (_, i) => dataRow(`Z\0\0\0\x05I${i}`));
    const stream = Buffer.concat([
      ready('T'),
      ...rows,
      complete('SELECT 60'),
      ready('E'),
      ...rows,
      ready('I'),
    ]);
    // the read buffer does not start at its ArrayBuffer's start, as a pooled Buffer would not
    const read = Buffer.alloc(8192).subarray(24, 24 + 4096);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 12 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const byRead = new TransactionStatus();
        const byData = new TransactionStatus();
        let from = 0;
        for (const p of [...points, stream.length]) {
          read.fill(0x5a);
          stream.copy(read, 0, from, p);
          byRead.onRead(read, p - from);
          byData.onData(stream.subarray(from, p));
          expect(byRead.status).toBe(byData.status);
          from = p;
        }
        expect(String.fromCharCode(byRead.status)).toBe('I');
      }),
      { numRuns: 300 },
    );
    const s = new TransactionStatus();
    for (const byte of stream) {
      read[0] = byte;
      s.onRead(read, 1);
    }
    expect(String.fromCharCode(s.status)).toBe('I');
    // a broken length is lost on this path too, until restart
    read.set([0x44, 0, 0, 0, 0, 0x5a, 0, 0, 0, 5, 0x49]);
    s.onRead(read, 11);
    expect(s.inTransaction).toBe(true);
    s.restart();
    ready('I').copy(read);
    s.onRead(read, 6);
    expect(s.inTransaction).toBe(false);
  });

  it('every byte in its own chunk still ends on the right status', () => {
    const stream = Buffer.concat([ready('T'), dataRow('hello'), complete('COMMIT'), ready('I')]);
    const s = new TransactionStatus();
    for (const byte of stream) s.onData(Buffer.from([byte]));
    expect(s.inTransaction).toBe(false);
  });
});

describe('error classification', () => {
  it.each([
    'CONNECTION_CLOSED',
    'CONNECTION_ENDED',
    'CONNECTION_DESTROYED',
    'CONNECT_TIMEOUT',
    'ECONNRESET',
    'EPIPE',
    'ECONNREFUSED',
    'ETIMEDOUT',
    '57P01',
    '57P02',
    '57P03',
    '08006',
    '08003',
    '08P01',
  ])('%s is a disconnect', (code) => {
    expect(isDisconnectError(Object.assign(new Error('x'), { code }))).toBe(true);
  });

  it('looks through the cause chain, and not at messages', () => {
    expect(isDisconnectError(new Error('wrapped', { cause: { code: 'ECONNRESET' } }))).toBe(true);
    expect(isDisconnectError(new Error('ECONNRESET CONNECTION_CLOSED'))).toBe(false);
    expect(isDisconnectError(Object.assign(new Error('x'), { code: '23505' }))).toBe(false);
    expect(isDisconnectError(undefined)).toBe(false);
  });

  it('serialization failures and deadlocks are retryable, nothing else', () => {
    expect(isRetryableError({ code: '40001' })).toBe(true);
    expect(isRetryableError({ code: '40P01' })).toBe(true);
    expect(isRetryableError({ code: '23505' })).toBe(false);
    expect(isRetryableError({ code: 'ECONNRESET' })).toBe(false);
  });
});

describe('transaction statements and config', () => {
  it('builds begin statements from fixed keywords only', () => {
    expect(beginStatement({})).toBe('begin');
    expect(beginStatement({ isolation: 'serializable', readOnly: true })).toBe(
      'begin isolation level serializable read only',
    );
    expect(() => beginStatement({ isolation: 'serializable; drop table x' as never })).toThrow(TypeError);
  });

  it('defaults: prepared statements on, array types fetched, notices ignored, application_name cistern', () => {
    const c = resolveConfig('postgres://u:pw@h:1/d');
    expect(c.prepare).toBe(true);
    expect(c.base.fetch_types).toBe(true);
    expect(c.base.connection).toEqual({ application_name: 'cistern' });
    expect(c.tls).toBeUndefined();
    expect(c.base.ssl).toBe(false); // cistern negotiates TLS itself
    expect(resolveConfig('postgres://h/d?sslmode=require').tls).toEqual({
      mode: 'require',
      options: { rejectUnauthorized: false },
    });
    expect(resolveConfig('postgres://h/d?sslmode=disable').tls).toBeUndefined();
    expect(resolveConfig('postgres://h/d?ssl=true').tls?.mode).toBe('verify-full');
    expect(resolveConfig({ url: 'postgres://h/d', ssl: { rejectUnauthorized: false } }).tls).toEqual({
      mode: 'verify-full',
      options: { rejectUnauthorized: false },
    });
    // the TLS parameters are cistern's: postgres.js does not see them
    expect(resolveConfig('postgres://h/d?sslmode=require&x=1').url).toBe('postgres://h/d?x=1');
    expect(() => resolveConfig('postgres://h/d?sslmode=bogus')).toThrow(/sslmode 'bogus' is not one of/);
    expect(() => resolveConfig('postgres://h/d?sslrootcert=/no/such/ca.pem')).toThrow(
      /cannot read sslrootcert '\/no\/such\/ca.pem'/,
    );
  });

  it('target_session_attrs: libpq values, checked by cistern, removed from what postgres.js sees', () => {
    expect(resolveConfig('postgres://a,b/d?target_session_attrs=read-write').targetSessionAttrs).toBe(
      'read-write',
    );
    expect(resolveConfig('postgres://a,b/d?target_session_attrs=read-write').url).toBe('postgres://a,b/d');
    expect(resolveConfig('postgres://a,b/d?target_session_attrs=any').targetSessionAttrs).toBeUndefined();
    expect(
      resolveConfig({ url: 'postgres://a/d', postgresOptions: { target_session_attrs: 'standby' } })
        .targetSessionAttrs,
    ).toBe('standby');
    expect(() => resolveConfig('postgres://a/d?target_session_attrs=nope')).toThrow(
      /target_session_attrs 'nope' is not one of any, read-write/,
    );
  });
});
