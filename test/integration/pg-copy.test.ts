/**
 * Bulk load through a checked-out connection on both PostgreSQL drivers:
 * COPY FROM STDIN and COPY TO STDOUT (pg with pg-copy-streams, postgres.js with
 * `.writable()` / `.readable()`), and a source stream that fails half-way: the
 * COPY is abandoned (nothing is loaded), the caller gets the stream's error, and
 * the connection is never handed out mid-COPY: the next caller's query works.
 */
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PgConnection, pg } from '../../src/drivers/pg/index.js';
import { type PgConnection as PostgresConnection, postgres } from '../../src/drivers/postgres/index.js';
import { createPool, type Pool } from '../../src/index.js';
import { PG_URL } from '../support/postgres.js';
import { serverAvailable } from '../support/servers.js';

const up = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');
const ROWS = 20_000;
// one table per process: CI runs this file on Node 24 and Node 20 side by side against the
// same server, and one run's drop must not pull the table from under the other
const TABLE_PG = `pgd_copy_pg_${process.pid}`;
const TABLE_JS = `pgd_copy_js_${process.pid}`;

function* lines(count: number, failAt?: number): Generator<string> {
  for (let i = 1; i <= count; i++) {
    if (i === failAt) throw new Error('pgd: source failed half-way');
    yield `${i}\tname ${i}\n`;
  }
}

/** A source that yields `count` lines, or fails after `failAt - 1` of them. */
function source(count: number, failAt?: number): Readable {
  return Readable.from(lines(count, failAt), { objectMode: false });
}

async function collect(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  await pipeline(
    stream,
    new Writable({
      write(chunk: Buffer, _enc, done) {
        chunks.push(Buffer.from(chunk));
        done();
      },
    }),
  );
  return Buffer.concat(chunks).toString('utf8');
}

describe.skipIf(!up)('COPY through a pooled connection: pg (pg-copy-streams)', () => {
  let pool: Pool<PgConnection>;
  beforeAll(async () => {
    pool = createPool(pg(PG_URL), { telemetry: false, size: 1, maxOverflow: 0 });
    await pool.use((c) => c.query(`drop table if exists ${TABLE_PG}`));
    await pool.use((c) => c.query(`create table ${TABLE_PG} (id int, name text)`));
  });
  afterAll(async () => {
    await pool.use((c) => c.query(`drop table if exists ${TABLE_PG}`)).catch(() => {});
    await pool.close();
  });

  it('loads rows with COPY FROM STDIN and reads them back with COPY TO STDOUT', async () => {
    await pool.use(async (c) => {
      await pipeline(source(ROWS), c.query(copyFrom(`copy ${TABLE_PG} (id, name) from stdin`)));
    });
    const count = await pool.use(
      async (c) => (await c.query(`select count(*)::int as n from ${TABLE_PG}`)).rows[0].n,
    );
    expect(count).toBe(ROWS);
    const text = await pool.use((c) =>
      collect(c.query(copyTo(`copy (select * from ${TABLE_PG} order by id limit 3) to stdout`))),
    );
    expect(text).toBe('1\tname 1\n2\tname 2\n3\tname 3\n');
  });

  it('a source failing half-way abandons the COPY; the connection comes back usable, never mid-COPY', async () => {
    await pool.use((c) => c.query(`truncate ${TABLE_PG}`));
    const error = await pool
      .use(async (c) => {
        await pipeline(source(ROWS, ROWS / 2), c.query(copyFrom(`copy ${TABLE_PG} (id, name) from stdin`)));
      })
      .catch((e: unknown) => e);
    expect((error as Error).message).toBe('pgd: source failed half-way');
    // size 1: the next caller gets the same connection (or a new one if it was invalidated), and it works
    const after = await pool.use(async (c) => ({
      pid: c.pid,
      n: (await c.query(`select count(*)::int as n from ${TABLE_PG}`)).rows[0].n,
      status: c.raw.getTransactionStatus?.(),
    }));
    expect(after.n).toBe(0);
    expect(after.status).toBe('I');
  });
});

describe.skipIf(!up)('COPY through a pooled connection: postgres.js (.writable / .readable)', () => {
  let pool: Pool<PostgresConnection>;
  beforeAll(async () => {
    pool = createPool(postgres(PG_URL), { telemetry: false, size: 1, maxOverflow: 0 });
    await pool.use((c) => c.sql`drop table if exists ${c.sql(TABLE_JS)}`);
    await pool.use((c) => c.sql`create table ${c.sql(TABLE_JS)} (id int, name text)`);
  });
  afterAll(async () => {
    await pool.use((c) => c.sql`drop table if exists ${c.sql(TABLE_JS)}`).catch(() => {});
    await pool.close();
  });

  it('loads rows with COPY FROM STDIN and reads them back with COPY TO STDOUT', async () => {
    await pool.use(async (c) => {
      await pipeline(source(ROWS), await c.sql`copy ${c.sql(TABLE_JS)} (id, name) from stdin`.writable());
    });
    const [row] = await pool.use(
      (c) => c.sql<{ n: number }[]>`select count(*)::int as n from ${c.sql(TABLE_JS)}`,
    );
    expect(row!.n).toBe(ROWS);
    const text = await pool.use(async (c) =>
      collect(await c.sql`copy (select * from ${c.sql(TABLE_JS)} order by id limit 3) to stdout`.readable()),
    );
    expect(text).toBe('1\tname 1\n2\tname 2\n3\tname 3\n');
  });

  it('a source failing half-way abandons the COPY; the connection comes back usable, never mid-COPY', async () => {
    await pool.use((c) => c.sql`truncate ${c.sql(TABLE_JS)}`);
    const error = await pool
      .use(async (c) => {
        await pipeline(
          source(ROWS, ROWS / 2),
          await c.sql`copy ${c.sql(TABLE_JS)} (id, name) from stdin`.writable(),
        );
      })
      .catch((e: unknown) => e);
    expect((error as Error).message).toBe('pgd: source failed half-way');
    const [row] = await pool.use(
      (c) => c.sql<{ n: number }[]>`select count(*)::int as n from ${c.sql(TABLE_JS)}`,
    );
    expect(row!.n).toBe(0);
  });
});
