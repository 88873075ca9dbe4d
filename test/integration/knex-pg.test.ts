/** knex 3.3 with the pg client and its `connectionPool` option (an external pg.Pool): the cistern pg.Pool face. */
import knex from 'knex';
import { afterAll, describe, expect, it } from 'vitest';
import { adminSql, PG_URL } from '../support/postgres.js';
import { serverAvailable } from '../support/servers.js';
import { expectOnlyCisternBackends, faceUnderTest } from './pg-face-tools.js';

const up = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');

describe.skipIf(!up)('knex pg over cistern/pg Pool (connectionPool)', () => {
  const admin = adminSql();
  const face = faceUnderTest('pgd-knex');
  const db = knex({ client: 'pg', connectionPool: face.pool as never });
  afterAll(async () => {
    await db.schema.dropTableIfExists('pgd_knex').catch(() => {});
    await db.destroy(); // an external pool stays open: the owner ends it
    expect(face.pool.ended).toBe(false);
    await face.pool.end();
    await admin.end({ timeout: 1 });
  });

  it('creates, inserts, selects, and rolls a transaction back', async () => {
    await db.schema.dropTableIfExists('pgd_knex');
    await db.schema.createTable('pgd_knex', (t) => {
      t.integer('id').primary();
      t.text('name').notNullable();
    });
    await db('pgd_knex').insert({ id: 1, name: 'one' });
    await db
      .transaction(async (trx) => {
        await trx('pgd_knex').insert({ id: 2, name: 'two' });
        throw new Error('pgd: roll back');
      })
      .catch(() => {});
    expect(await db('pgd_knex').select('id', 'name').orderBy('id')).toEqual([{ id: 1, name: 'one' }]);
    await expectOnlyCisternBackends(admin, face);
  });
});
