import { describe, expect, it } from 'vitest';
import {
  describeQuery,
  errorAttributes,
  errorType,
  responseStatusCode,
  spanName,
} from '../../src/telemetry/attributes.js';

const pg = { system: 'postgresql', host: 'db.internal', port: 5433, database: 'shop', user: 'app' };

describe('span name rule', () => {
  it('summary, else operation + target, else target, else system', () => {
    expect(spanName('SELECT users', 'find', 'users', 'mongodb')).toBe('SELECT users');
    expect(spanName(undefined, 'find', 'users', 'mongodb')).toBe('find users');
    expect(spanName(undefined, 'ping', undefined, 'mongodb')).toBe('ping');
    expect(spanName(undefined, undefined, 'shop', 'postgresql')).toBe('shop');
    expect(spanName(undefined, undefined, undefined, 'generic')).toBe('generic');
  });
});

describe('describeQuery', () => {
  it('MongoDB: operation and collection name the span; the namespace comes from the command', () => {
    const d = describeQuery(
      { operation: 'find', collection: 'users', namespace: 'app' },
      { ...pg, system: 'mongodb' },
      'm',
      true,
    );
    expect(d.spanName).toBe('find users');
    expect(d.spanAttributes).toEqual({
      'db.system.name': 'mongodb',
      'db.namespace': 'app',
      'db.collection.name': 'users',
      'db.operation.name': 'find',
      'server.address': 'db.internal',
      'server.port': 5433,
    });
    expect(d.metricAttributes['db.client.connection.pool.name']).toBe('m');
  });

  it('no SQL parsing for non-SQL systems; unparameterized text of unknown systems is not captured', () => {
    const generic = { system: 'generic', host: 'h' };
    expect(describeQuery({ text: 'GET key' }, generic, 'g', true).spanAttributes['db.query.text']).toBe(
      'GET key',
    );
    expect(
      describeQuery({ text: 'SET key 42', unparameterized: true }, generic, 'g', true).spanAttributes[
        'db.query.text'
      ],
    ).toBeUndefined();
  });

  it('target falls back to host:port when there is no namespace or collection', () => {
    const d = describeQuery({ operation: 'ping' }, { system: 'postgresql', host: 'h', port: 1 }, 'p', true);
    expect(d.spanName).toBe('ping h:1');
  });

  it('never copies the user into attributes', () => {
    const d = describeQuery({ text: 'SELECT 1' }, pg, 'p', true);
    expect(JSON.stringify(d)).not.toContain('app"');
  });
});

describe('status codes and error.type', () => {
  it('PostgreSQL: SQLSTATE from code; not a Node errno', () => {
    expect(responseStatusCode({ code: '40P01' }, 'postgresql')).toBe('40P01');
    expect(responseStatusCode({ code: 'ECONNRESET', errno: -104 }, 'postgresql')).toBeUndefined();
    expect(responseStatusCode({ code: 'CONNECTION_CLOSED' }, 'postgresql')).toBeUndefined();
  });

  it('MariaDB / MySQL: server errno; connector client errors (45xxx) have none', () => {
    expect(responseStatusCode({ errno: 1213, sqlState: '40001', code: 'ER_LOCK_DEADLOCK' }, 'mariadb')).toBe(
      '1213',
    );
    expect(
      responseStatusCode({ errno: 45009, code: 'ER_SOCKET_UNEXPECTED_CLOSE' }, 'mariadb'),
    ).toBeUndefined();
    expect(errorType({ errno: 45009, code: 'ER_SOCKET_UNEXPECTED_CLOSE' }, undefined)).toBe(
      'ER_SOCKET_UNEXPECTED_CLOSE',
    );
    expect(responseStatusCode({ sqlState: 'HY000' }, 'mysql')).toBe('HY000');
  });

  it('MongoDB: numeric server code', () => {
    expect(responseStatusCode({ code: 11000, codeName: 'DuplicateKey' }, 'mongodb')).toBe('11000');
    expect(responseStatusCode({ code: 'ECONNREFUSED' }, 'mongodb')).toBeUndefined();
  });

  it('error.type falls back to the class name, then _OTHER', () => {
    expect(errorType(new TypeError('x'), undefined)).toBe('TypeError');
    expect(errorType(new Error('x'), undefined)).toBe('_OTHER');
    expect(errorType('a string', undefined)).toBe('_OTHER');
    expect(errorAttributes({ code: '23505' }, 'postgresql')).toEqual({
      'error.type': '23505',
      'db.response.status_code': '23505',
    });
  });
});
