/**
 * knex 3.3 with knexPool(pool) as its `connectionPool`, on real MariaDB: the 'mariadb'
 * dialect over cistern/mariadb connections, and the 'mysql2' dialect over a fromFactory
 * pool of mysql2 connections. Schema, insert, select, commit, rollback, errors.
 */
import knex, { type Knex } from 'knex';
import { createConnection } from 'mysql2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mariadb } from '../../src/drivers/mariadb/index.js';
import { createPool, fromFactory, type Pool } from '../../src/index.js';
import { knexPool } from '../../src/knex/index.js';
import { MARIADB_URL, serverAvailable } from '../support/servers.js';

const up = await serverAvailable('MariaDB', MARIADB_URL, 'MARIADB_URL');

async function checkedIn(pool: Pool<any>): Promise<void> {
  // a check-in after a failed command may run the driver's asynchronous ROLLBACK first
  for (let i = 0; i < 100 && pool.stats().used !== 0; i++) await new Promise((r) => setTimeout(r, 10));
  expect(pool.stats().used).toBe(0);
}

function mysql2Pool(): Pool<any> {
  const u = new URL(MARIADB_URL);
  return createPool(
    fromFactory({
      create: () =>
        new Promise((resolve, reject) => {
          const c = createConnection({
            host: u.hostname,
            port: Number(u.port || 3306),
            user: decodeURIComponent(u.username || 'root'),
            password: u.password ? decodeURIComponent(u.password) : undefined,
            database: u.pathname.slice(1),
          });
          c.once('connect', () => resolve(c));
          c.once('error', reject);
        }),
      destroy: (c: any) => new Promise<void>((resolve) => c.end(() => resolve())),
      validate: (c: any) => new Promise<boolean>((resolve) => c.ping((e: unknown) => resolve(!e))),
    }),
    { telemetry: false, size: 2, maxOverflow: 0 },
  );
}

const cases = [
  {
    client: 'mariadb',
    make: () => createPool(mariadb(MARIADB_URL), { telemetry: false, size: 2, maxOverflow: 0 }),
  },
  { client: 'mysql2', make: mysql2Pool },
] as const;

for (const { client, make } of cases) {
  describe.skipIf(!up)(`knex '${client}' on knexPool`, () => {
    const TABLE = `face_knex_${client}_${process.pid}`;
    let pool: Pool<any>;
    let db: Knex;
    let checkouts = 0;

    beforeAll(async () => {
      pool = make();
      pool.on('checkout', () => checkouts++);
      db = knex({ client, connectionPool: knexPool(pool) });
      await db.schema.dropTableIfExists(TABLE);
      await db.schema.createTable(TABLE, (t) => {
        t.increments('id');
        t.string('name').notNullable();
      });
    });
    afterAll(async () => {
      await db?.schema.dropTableIfExists(TABLE);
      await db?.destroy(); // knex does not close a pool it was given
      expect(pool.closed).toBe(false);
      await pool?.close();
    });

    it('inserts and selects, each query on a checkout', async () => {
      const before = checkouts;
      const [id] = await db(TABLE).insert({ name: 'kay' });
      expect(Number(id)).toBeGreaterThan(0);
      const rows = await db(TABLE).select('name').where('id', id);
      expect(rows).toEqual([{ name: 'kay' }]);
      expect(checkouts - before).toBe(2);
      expect(pool.stats().used).toBe(0);
    });

    it('commits a transaction and rolls one back on throw', async () => {
      await db.transaction(async (trx) => {
        await trx(TABLE).insert({ name: 'committed' });
      });
      await expect(
        db.transaction(async (trx) => {
          await trx(TABLE).insert({ name: 'rolled-back' });
          throw new Error('undo');
        }),
      ).rejects.toThrow('undo');
      const names = (await db(TABLE).select('name')).map((r: { name: string }) => r.name);
      expect(names).toContain('committed');
      expect(names).not.toContain('rolled-back');
      await checkedIn(pool);
    });

    it('runs on the pool only: CONNECTION_ID() is a pooled connection', async () => {
      const ids = new Set<number>();
      await Promise.all(
        Array.from({ length: 2 }, () =>
          pool.use(async (c) => {
            const [row] = await new Promise<any[]>((resolve, reject) => {
              if (client === 'mysql2')
                c.query('select connection_id() as id', (e: unknown, r: any[]) =>
                  e ? reject(e) : resolve(r),
                );
              else c.query('select connection_id() as id').then(resolve, reject);
            });
            ids.add(Number(row.id));
            await new Promise((r) => setTimeout(r, 30));
          }),
        ),
      );
      for (let i = 0; i < 3; i++) {
        const [[row]] = (await db.raw('select connection_id() as id')) as [[{ id: number }]];
        expect(ids.has(Number(row!.id))).toBe(true);
      }
    });

    it('streams rows on one checkout', async () => {
      const names: string[] = [];
      for await (const row of db(TABLE).select('name').orderBy('id').stream()) {
        expect(pool.stats().used).toBe(1);
        names.push((row as { name: string }).name);
      }
      expect(names).toContain('kay');
      await checkedIn(pool);
    });

    it('a query error leaves nothing checked out', async () => {
      await expect(db('face_no_such_table').select('*')).rejects.toThrow(/face_no_such_table/);
      await checkedIn(pool);
    });
  });
}
