/**
 * TypeORM 1.x with its `driver` option: a pg module whose `Pool` is cistern's
 * pg.Pool face. TypeORM constructs the pool itself (`new driver.Pool(options)`,
 * with `extra` merged in, which is where cistern's own options go).
 */
import pg from 'pg';
import { DataSource, EntitySchema } from 'typeorm';
import { afterAll, describe, expect, it } from 'vitest';
import { Pool } from '../../src/drivers/pg/index.js';
import { adminSql, appName, backendPids, PG_URL } from '../support/postgres.js';
import { serverAvailable } from '../support/servers.js';

const up = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');

interface Item {
  id: number;
  name: string;
}
// one table per process: the Node 24 and Node 20 suites run side by side on one server
const TABLE = `pgd_typeorm_${process.pid}`;
const ItemSchema = new EntitySchema<Item>({
  name: 'PgdTypeormItem',
  tableName: TABLE,
  columns: { id: { type: Number, primary: true }, name: { type: String } },
});

describe.skipIf(!up)('TypeORM over cistern/pg Pool (driver option)', () => {
  const admin = adminSql();
  const application = appName('pgd-typeorm');
  const made: Pool[] = [];
  class CisternPool extends Pool {
    constructor(options: Record<string, unknown>) {
      super(options);
      made.push(this);
    }
  }
  const source = new DataSource({
    type: 'postgres',
    url: PG_URL,
    applicationName: application,
    driver: { ...pg, Pool: CisternPool },
    extra: { telemetry: false, max: 4 },
    entities: [ItemSchema],
    synchronize: true,
  });
  afterAll(async () => {
    if (source.isInitialized) {
      await source.query(`drop table if exists ${TABLE}`).catch(() => {});
      await source.destroy();
    }
    await admin.end({ timeout: 1 });
  });

  it('synchronizes, saves, finds, and rolls a transaction back, all on cistern connections', async () => {
    await source.initialize();
    expect(made.length).toBe(1);
    const pool = made[0]!;
    let checkouts = 0;
    pool.cistern.on('checkout', () => checkouts++);
    const repo = source.getRepository(ItemSchema);
    await repo.clear();
    await repo.save({ id: 1, name: 'one' });
    await source
      .transaction(async (manager) => {
        await manager.getRepository(ItemSchema).save({ id: 2, name: 'two' });
        throw new Error('pgd: roll back');
      })
      .catch(() => {});
    expect(await repo.find({ order: { id: 'ASC' } })).toEqual([{ id: 1, name: 'one' }]);
    expect(checkouts).toBeGreaterThan(0);
    const open = pool._clients.map((c) => c.processID);
    const seen = await backendPids(admin, application);
    expect(seen.length).toBeGreaterThan(0);
    for (const pid of seen) expect(open).toContain(pid);
  });
});
