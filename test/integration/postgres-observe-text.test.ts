/**
 * The observed text of a tagged template is rendered once per call site when every
 * interpolation is a plain value: the cache must never hand out a text that differs
 * from what postgres.js sends (fragments, identifiers and helpers at the same call site).
 */
import { describe, expect, it } from 'vitest';
import { postgres } from '../../src/drivers/postgres/index.js';
import { connectCtx, PG_URL, recordingObserver } from '../support/postgres.js';
import { serverAvailable } from '../support/servers.js';

const up = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');

describe.skipIf(!up)('postgres driver: observed text per call site', () => {
  it('one call site with plain values, fragments, identifiers and helpers: each text as sent', async () => {
    const observer = recordingObserver();
    const driver = postgres(PG_URL);
    const conn = await driver.connect(connectCtx({ observer }));
    try {
      const sql = conn.sql;
      // the same call site (one strings array) every time
      const run = (v: any) => sql`select ${v} as x from pg_class limit 1`;
      await run(1);
      await run(sql`2`);
      await run('three');
      await run(sql('relname'));
      await run(null);
      const rows = await sql`select ${7}::int as n`;
      await sql`select x from (values (1),(2)) v(x) where x in ${sql([1, 2])}`;
      expect(rows[0]).toEqual({ n: 7 });
      expect(observer.started.map((i) => i.text)).toEqual([
        'select $1 as x from pg_class limit 1',
        'select 2 as x from pg_class limit 1',
        'select $1 as x from pg_class limit 1',
        'select "relname" as x from pg_class limit 1',
        'select $1 as x from pg_class limit 1',
        'select $1::int as n',
        'select x from (values (1),(2)) v(x) where x in ($1,$2)',
      ]);
      // the cached description is the same object each time, and holds no value
      expect(observer.started[0]).toBe(observer.started[2]);
      expect(JSON.stringify(observer.started)).not.toContain('three');
      expect(observer.ended).toHaveLength(observer.started.length);
    } finally {
      await driver.close(conn);
    }
  });
});
