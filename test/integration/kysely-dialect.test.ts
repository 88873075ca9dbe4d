/**
 * CisternDialect on real PostgreSQL (cistern/postgres) and MariaDB (cistern/mariadb):
 * schema DDL, insert returning / insertId, transactions (rolled back on throw, isolation,
 * savepoints), a stream, an aborted acquire, and every query on a pooled connection.
 */
import { type Generated, Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mariadb } from '../../src/drivers/mariadb/index.js';
import { postgres } from '../../src/drivers/postgres/index.js';
import { createPool, type Pool } from '../../src/index.js';
import { CisternDialect } from '../../src/kysely/index.js';
import { appName, PG_URL } from '../support/postgres.js';
import { MARIADB_URL, serverAvailable } from '../support/servers.js';

const pgUp = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');
const mariaUp = await serverAvailable('MariaDB', MARIADB_URL, 'MARIADB_URL');

// per-process table names, typed as one literal for kysely
const TABLE = `face_kysely_${process.pid}` as 'face_kysely';
interface Db {
  face_kysely: { id: Generated<number>; name: string; n: Generated<number> };
}

interface Target {
  label: string;
  up: boolean;
  make(): Pool<any>;
  /** The server's id of the connection a query ran on, and the ids of the pool's connections. */
  sessionSql: string;
  sessionOf(conn: any): Promise<number>;
  postgres: boolean;
}

const targets: Target[] = [
  {
    label: 'PostgreSQL (cistern/postgres)',
    up: pgUp,
    make: () =>
      createPool(postgres(PG_URL, { applicationName: appName('kysely') }), {
        telemetry: false,
        size: 2,
        maxOverflow: 0,
      }),
    sessionSql: 'select pg_backend_pid() as id',
    sessionOf: async (c) => c.pid,
    postgres: true,
  },
  {
    label: 'MariaDB (cistern/mariadb)',
    up: mariaUp,
    make: () => createPool(mariadb(MARIADB_URL), { telemetry: false, size: 2, maxOverflow: 0 }),
    sessionSql: 'select connection_id() as id',
    sessionOf: async (c) => c.threadId,
    postgres: false,
  },
];

/** Resolves once nothing is checked out (a check-in may run an asynchronous reset); bounded. */
async function checkedIn(pool: Pool<any>): Promise<void> {
  for (let i = 0; i < 100 && pool.stats().used !== 0; i++) await new Promise((r) => setTimeout(r, 10));
  expect(pool.stats().used).toBe(0);
}

for (const target of targets) {
  describe.skipIf(!target.up)(`CisternDialect on ${target.label}`, () => {
    let pool: Pool<any>;
    let db: Kysely<Db>;
    const checkedOut = new Set<number>();
    let checkouts = 0;

    beforeAll(async () => {
      pool = target.make();
      pool.on('checkout', ({ connectionId }) => {
        checkouts++;
        checkedOut.add(connectionId);
      });
      db = new Kysely<Db>({ dialect: new CisternDialect({ pool }) });
      await db.schema.dropTable(TABLE).ifExists().execute();
      await db.schema
        .createTable(TABLE)
        .addColumn('id', target.postgres ? 'serial' : 'integer', (c) =>
          target.postgres ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('name', 'varchar(100)', (c) => c.notNull())
        .addColumn('n', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    });
    afterAll(async () => {
      await db?.schema.dropTable(TABLE).ifExists().execute();
      await db?.destroy();
      expect(pool.closed).toBe(true);
    });

    it('introspects the table it created', async () => {
      const tables = await db.introspection.getTables();
      const mine = tables.find((t) => t.name === TABLE);
      expect(mine?.columns.map((c) => c.name).sort()).toEqual(['id', 'n', 'name']);
    });

    it('inserts (returning on PostgreSQL, insertId on MariaDB) and selects, each query one checkout', async () => {
      const before = checkouts;
      let id: number;
      if (target.postgres) {
        const row = await db
          .insertInto(TABLE)
          .values({ name: 'ann', n: 1 })
          .returning('id')
          .executeTakeFirstOrThrow();
        id = row.id;
      } else {
        const result = await db.insertInto(TABLE).values({ name: 'ann', n: 1 }).executeTakeFirstOrThrow();
        expect(typeof result.insertId).toBe('bigint');
        id = Number(result.insertId);
      }
      const rows = await db.selectFrom(TABLE).select(['name', 'n']).where('id', '=', id).execute();
      expect(rows).toEqual([{ name: 'ann', n: 1 }]);
      const updated = await db.updateTable(TABLE).set({ n: 2 }).where('id', '=', id).executeTakeFirst();
      expect(updated.numUpdatedRows).toBe(1n);
      expect(checkouts - before).toBe(3);
      expect(pool.stats().used).toBe(0);
    });

    it('every query runs on a pooled connection', async () => {
      const ids = new Set<number>();
      await Promise.all(
        Array.from({ length: 2 }, () =>
          pool.use(async (c) => {
            ids.add(await target.sessionOf(c));
            await new Promise((r) => setTimeout(r, 30));
          }),
        ),
      );
      for (let i = 0; i < 4; i++) {
        const { rows } = await sql<{ id: number }>`${sql.raw(target.sessionSql)}`.execute(db);
        expect(ids.has(Number(rows[0]!.id))).toBe(true);
      }
    });

    it('a transaction that throws is rolled back; isolation and access mode go through the driver', async () => {
      await expect(
        db.transaction().execute(async (tx) => {
          await tx.insertInto(TABLE).values({ name: 'gone' }).execute();
          throw new Error('undo');
        }),
      ).rejects.toThrow('undo');
      expect(await db.selectFrom(TABLE).select('id').where('name', '=', 'gone').execute()).toEqual([]);
      await db
        .transaction()
        .setIsolationLevel('serializable')
        .execute(async (tx) => {
          await tx.insertInto(TABLE).values({ name: 'serial' }).execute();
          // MariaDB: SET TRANSACTION applies to this transaction only, seen in innodb_trx once it started
          const text = target.postgres
            ? sql<{ iso: string }>`select current_setting('transaction_isolation') as iso`
            : sql<{
                iso: string;
              }>`select trx_isolation_level as iso from information_schema.innodb_trx where trx_mysql_thread_id = connection_id()`;
          // information_schema.innodb_trx is a cache MariaDB refreshes at most every 0.1 s
          // (shared by every session): a transaction just started may not be in it yet
          let { rows } = await text.execute(tx);
          for (let i = 0; i < 20 && rows.length === 0; i++) {
            await new Promise((r) => setTimeout(r, 110));
            ({ rows } = await text.execute(tx));
          }
          expect(rows[0]!.iso.toLowerCase().replace('-', ' ')).toBe('serializable');
        });
      await expect(
        db
          .transaction()
          .setAccessMode('read only')
          .execute((tx) => tx.insertInto(TABLE).values({ name: 'ro' }).execute()),
      ).rejects.toThrow(/read.only/i);
      expect(
        await db.selectFrom(TABLE).select('name').where('name', 'in', ['serial', 'ro']).execute(),
      ).toEqual([{ name: 'serial' }]);
      expect(pool.stats().used).toBe(0);
    });

    it('savepoints: a controlled transaction rolls back to one', async () => {
      const trx = await db.startTransaction().execute();
      await trx.insertInto(TABLE).values({ name: 'sp-kept' }).execute();
      const sp = await trx.savepoint('sp1').execute();
      await sp.insertInto(TABLE).values({ name: 'sp-dropped' }).execute();
      await sp.rollbackToSavepoint('sp1').execute();
      await trx.commit().execute();
      const names = await db.selectFrom(TABLE).select('name').where('name', 'like', 'sp-%').execute();
      expect(names).toEqual([{ name: 'sp-kept' }]);
      expect(pool.stats().used).toBe(0);
    });

    it('streams in chunks on one checkout, also when left early', async () => {
      await db
        .insertInto(TABLE)
        .values(Array.from({ length: 25 }, (_, i) => ({ name: `st-${i}`, n: i })))
        .execute();
      const seen: number[] = [];
      for await (const row of db
        .selectFrom(TABLE)
        .select('n')
        .where('name', 'like', 'st-%')
        .orderBy('n')
        .stream(10)) {
        expect(pool.stats().used).toBe(1);
        seen.push(row.n);
      }
      expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => i));
      for await (const row of db
        .selectFrom(TABLE)
        .select('n')
        .where('name', 'like', 'st-%')
        .orderBy('n')
        .stream(5)) {
        expect(row.n).toBe(0);
        break;
      }
      expect(pool.stats().used).toBe(0);
      // the connection is usable after the early exit
      expect((await db.selectFrom(TABLE).select('n').where('name', '=', 'st-3').execute())[0]!.n).toBe(3);
    });

    it('an aborted acquire gives up waiting and leaves nothing checked out', async () => {
      const held = await Promise.all([pool.acquire(), pool.acquire()]);
      const controller = new AbortController();
      const query = db
        .selectFrom(TABLE)
        .select('id')
        .execute({ signal: controller.signal } as never);
      await new Promise((r) => setTimeout(r, 20));
      expect(pool.stats().pending).toBe(1);
      controller.abort(new Error('caller gave up'));
      await expect(query).rejects.toThrow('caller gave up');
      expect(pool.stats().pending).toBe(0);
      for (const c of held) pool.release(c);
      expect(pool.stats().used).toBe(0);
    });

    it('a query error leaves nothing checked out', async () => {
      await expect(sql`select * from face_no_such_table`.execute(db)).rejects.toThrow(/face_no_such_table/);
      // MariaDB: after an error reply the connector reports "in transaction", so check-in sends a
      // ROLLBACK first (the mariadb driver's reset, asynchronous): wait for that check-in to finish.
      await checkedIn(pool);
    });
  });
}

describe('CisternDialect input', () => {
  it('refuses a pool of a driver kysely cannot use', async () => {
    const { fromFactory } = await import('../../src/index.js');
    const pool = createPool(fromFactory({ create: async () => ({}), destroy: async () => {} }), {
      telemetry: false,
    });
    expect(() => new CisternDialect({ pool })).toThrow(/cannot serve kysely/);
    expect(() => new CisternDialect({} as never)).toThrow(/must be a cistern pool/);
    await pool.close();
  });
});
