/**
 * Prisma's `@prisma/adapter-pg` 7.x on the cistern pg.Pool face: `new PrismaPg(pool)`
 * takes the pool as an external pool only when `pool instanceof pg.Pool`. The Prisma
 * query engine cannot be downloaded here, so the adapter's own API is driven directly
 * (what the engine calls): raw queries, and a transaction rolled back.
 */
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminSql, PG_URL } from '../support/postgres.js';
import { serverAvailable } from '../support/servers.js';
import { expectOnlyCisternBackends, faceUnderTest } from './pg-face-tools.js';

const up = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');
const INT = { scalarType: 'int', dbType: 'INTEGER', arity: 'scalar' } as const;
const TEXT = { scalarType: 'string', dbType: 'TEXT', arity: 'scalar' } as const;

// one table per process: the Node 24 and Node 20 suites run side by side on one server
const TABLE = `pgd_prisma_${process.pid}`;

describe.skipIf(!up)('Prisma adapter-pg over cistern/pg Pool', () => {
  const admin = adminSql();
  const face = faceUnderTest('pgd-prisma');
  beforeAll(() => face.pool.query(`create table if not exists ${TABLE} (id int primary key, name text)`));
  afterAll(async () => {
    await face.pool.query(`drop table if exists ${TABLE}`).catch(() => {});
    await face.pool.end();
    await admin.end({ timeout: 1 });
  });

  it('is taken as an external pg.Pool, runs raw queries, and rolls a transaction back', async () => {
    expect(face.pool).toBeInstanceOf(pg.Pool);
    const factory = new PrismaPg(face.pool as unknown as pg.Pool);
    expect((factory as unknown as { externalPool: unknown }).externalPool).toBe(face.pool);
    const adapter = await factory.connect();

    const result = await adapter.queryRaw({
      sql: 'select $1::int as n, $2::text as s',
      args: [5, 'five'],
      argTypes: [INT, TEXT],
    } as never);
    expect(result.columnNames).toEqual(['n', 's']);
    expect(result.rows).toEqual([[5, 'five']]);
    await adapter.executeRaw({ sql: `delete from ${TABLE}`, args: [], argTypes: [] } as never);

    const tx = await adapter.startTransaction();
    await tx.executeRaw({
      sql: `insert into ${TABLE} values ($1, $2)`,
      args: [1, 'rolled back'],
      argTypes: [INT, TEXT],
    } as never);
    const inside = await tx.queryRaw({
      sql: `select count(*)::int as n from ${TABLE}`,
      args: [],
      argTypes: [],
    } as never);
    expect(inside.rows).toEqual([[1]]);
    await tx.executeRaw({ sql: 'ROLLBACK', args: [], argTypes: [] } as never);
    await tx.rollback();

    // a transaction whose client is released while still open (no ROLLBACK sent): cistern's reset rolls it back
    const tx2 = await adapter.startTransaction();
    await tx2.executeRaw({
      sql: `insert into ${TABLE} values ($1, $2)`,
      args: [2, 'left open'],
      argTypes: [INT, TEXT],
    } as never);
    await tx2.rollback();

    const after = await adapter.queryRaw({
      sql: `select count(*)::int as n from ${TABLE}`,
      args: [],
      argTypes: [],
    } as never);
    expect(after.rows).toEqual([[0]]);
    await expectOnlyCisternBackends(admin, face);
    await adapter.dispose();
  });
});
