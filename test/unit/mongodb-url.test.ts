import { describe, expect, it } from 'vitest';
import { parseMongoUrl, targetOf, wantsDirectConnection } from '../../src/drivers/mongodb/url.js';

describe('mongodb connection string: target and direct connection', () => {
  it('reads host, port, database and user, never the password, from a single-host URL', () => {
    const info = parseMongoUrl('mongodb://ann:p%40ss%3Aw0rd@db.example:27018/shop?authSource=admin');
    expect(info.password).toBe('p@ss:w0rd');
    expect(targetOf(info)).toEqual({
      system: 'mongodb',
      host: 'db.example',
      port: 27018,
      database: 'shop',
      user: 'ann',
    });
    expect(JSON.stringify(targetOf(info))).not.toContain('w0rd');
    expect(wantsDirectConnection(info, {})).toBe(true);
  });

  it('defaults the port to 27017 and the database to test', () => {
    expect(targetOf(parseMongoUrl('mongodb://localhost'))).toEqual({
      system: 'mongodb',
      host: 'localhost',
      port: 27017,
      database: 'test',
    });
  });

  it('takes the first of several hosts and does not force a direct connection to it', () => {
    const info = parseMongoUrl('mongodb://a:1,b:2,[::1]:3/app?replicaSet=rs0');
    expect(info.hosts).toEqual([
      { host: 'a', port: 1 },
      { host: 'b', port: 2 },
      { host: '::1', port: 3 },
    ]);
    expect(targetOf(info)).toMatchObject({ host: 'a', port: 1, database: 'app' });
    expect(wantsDirectConnection(info, {})).toBe(false);
  });

  it('leaves SRV, replica sets, load balancers and an explicit choice alone', () => {
    const srv = parseMongoUrl('mongodb+srv://cluster0.example.net/app');
    expect(srv.srv).toBe(true);
    expect(targetOf(srv)).toMatchObject({ host: 'cluster0.example.net', port: undefined });
    expect(wantsDirectConnection(srv, {})).toBe(false);
    const one = parseMongoUrl('mongodb://h:1/app');
    expect(wantsDirectConnection(one, { replicaSet: 'rs0' })).toBe(false);
    expect(wantsDirectConnection(one, { loadBalanced: true })).toBe(false);
    expect(wantsDirectConnection(one, { directConnection: false })).toBe(false);
    expect(wantsDirectConnection(parseMongoUrl('mongodb://h:1/app?directConnection=false'), {})).toBe(false);
    expect(wantsDirectConnection(parseMongoUrl('mongodb://h:1/?replicaSet=rs0'), {})).toBe(false);
  });
});
