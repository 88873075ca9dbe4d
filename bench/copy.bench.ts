/**
 * Bulk load: 1 M rows (`--quick`: 100 k) of `(int, text)` into an unlogged table,
 * on one pooled connection, by COPY FROM STDIN against multi-row INSERT batches
 * (1000 rows per statement, parameters sent separately), on both PostgreSQL
 * drivers. Figure: rows/s (higher is better), one measurement per subject after a
 * small warm-up; the table is truncated before each.
 *
 * - cistern+pg COPY: pg-copy-streams `from()` on `conn.query(...)`;
 * - cistern+postgres.js COPY: `sql\`copy ... from stdin\`.writable()`;
 * - cistern+pg INSERT x1000: `insert into ... values ($1,$2),...` with 2000 parameters;
 * - cistern+postgres.js INSERT x1000: `sql\`insert into ... ${sql(rows)}\``.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { pg } from '../src/drivers/pg/index.js';
import { postgres } from '../src/drivers/postgres/index.js';
import { createPool } from '../src/index.js';
import { PG_URL, reachable } from '../test/support/servers.js';
import type { BenchContext, BenchResult, BenchScenario } from './lib/types.js';

const BATCH = 1000;
const TABLE = 'pgd_copy_bench';

/** COPY text for rows first..last, in chunks of BATCH lines. */
function copySource(rows: number): Readable {
  let next = 1;
  return new Readable({
    read() {
      if (next > rows) {
        this.push(null);
        return;
      }
      let chunk = '';
      const end = Math.min(rows, next + BATCH - 1);
      for (let i = next; i <= end; i++) chunk += `${i}\tname ${i}\n`;
      next = end + 1;
      this.push(chunk);
    },
  });
}

function insertText(rows: number): string {
  const values: string[] = [];
  for (let i = 0; i < rows; i++) values.push(`($${2 * i + 1}, $${2 * i + 2})`);
  return `insert into ${TABLE} (id, name) values ${values.join(', ')}`;
}
const INSERT_TEXT = insertText(BATCH);

function batchParams(first: number, count: number): unknown[] {
  const params: unknown[] = new Array(2 * count);
  for (let i = 0; i < count; i++) {
    params[2 * i] = first + i;
    params[2 * i + 1] = `name ${first + i}`;
  }
  return params;
}

interface Subject {
  name: string;
  method: 'COPY' | 'INSERT';
  load(rows: number): Promise<void>;
  count(): Promise<number>;
  truncate(): Promise<void>;
  close(): Promise<void>;
}

async function subjects(): Promise<Subject[]> {
  const pgPool = createPool(pg(PG_URL), { size: 1, maxOverflow: 0, telemetry: false });
  const jsPool = createPool(postgres(PG_URL), { size: 1, maxOverflow: 0, telemetry: false });
  const pgCount = () =>
    pgPool.use(async (c) => (await c.query(`select count(*)::int as n from ${TABLE}`)).rows[0].n);
  const pgTruncate = () => pgPool.use(async (c) => void (await c.query(`truncate ${TABLE}`)));
  return [
    {
      name: 'cistern+pg COPY',
      method: 'COPY',
      load: (rows) =>
        pgPool.use((c) =>
          pipeline(copySource(rows), c.query(copyFrom(`copy ${TABLE} (id, name) from stdin`))),
        ),
      count: pgCount,
      truncate: pgTruncate,
      close: () => pgPool.close(),
    },
    {
      name: 'cistern+postgres.js COPY',
      method: 'COPY',
      load: (rows) =>
        jsPool.use(async (c) =>
          pipeline(copySource(rows), await c.sql.unsafe(`copy ${TABLE} (id, name) from stdin`).writable()),
        ),
      count: pgCount,
      truncate: pgTruncate,
      close: () => jsPool.close(),
    },
    {
      name: `cistern+pg INSERT x${BATCH}`,
      method: 'INSERT',
      load: (rows) =>
        pgPool.use(async (c) => {
          for (let first = 1; first <= rows; first += BATCH) {
            const n = Math.min(BATCH, rows - first + 1);
            if (n === BATCH)
              await c.query({ text: INSERT_TEXT, values: batchParams(first, n), name: 'pgd_insert_batch' });
            else await c.query(insertText(n), batchParams(first, n));
          }
        }),
      count: pgCount,
      truncate: pgTruncate,
      close: async () => {},
    },
    {
      name: `cistern+postgres.js INSERT x${BATCH}`,
      method: 'INSERT',
      load: (rows) =>
        jsPool.use(async (c) => {
          for (let first = 1; first <= rows; first += BATCH) {
            const n = Math.min(BATCH, rows - first + 1);
            const batch = Array.from({ length: n }, (_, i) => ({ id: first + i, name: `name ${first + i}` }));
            await c.sql`insert into ${c.sql(TABLE)} ${c.sql(batch, 'id', 'name')}`;
          }
        }),
      count: pgCount,
      truncate: pgTruncate,
      close: async () => {},
    },
  ];
}

const scenario: BenchScenario = {
  name: 'copy',
  async skip() {
    return (await reachable(PG_URL)) ? undefined : `PostgreSQL not reachable at ${new URL(PG_URL).host}`;
  },
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const rows = ctx.quick ? 100_000 : 1_000_000;
    const all = await subjects();
    const results: BenchResult[] = [];
    try {
      await all[0]!.truncate().catch(() => {});
      const setup = createPool(pg(PG_URL), { size: 1, maxOverflow: 0, telemetry: false });
      await setup.use(async (c) => {
        await c.query(`drop table if exists ${TABLE}`);
        await c.query(`create unlogged table ${TABLE} (id int, name text)`);
      });
      await setup.close();
      for (const s of all) {
        ctx.progress(`${s.name}: warm-up`);
        await s.load(BATCH * 5);
        await s.truncate();
        ctx.progress(`${s.name}: ${rows} rows`);
        const started = performance.now();
        await s.load(rows);
        const seconds = (performance.now() - started) / 1000;
        const loaded = await s.count();
        if (loaded !== rows) throw new Error(`${s.name} loaded ${loaded} rows, expected ${rows}`);
        await s.truncate();
        results.push({
          scenario: 'copy-1m',
          subject: s.name,
          params: { rows, method: s.method },
          value: Math.round(rows / seconds),
          unit: 'rows/s',
          extra: { seconds: Math.round(seconds * 100) / 100 },
        });
      }
      await all[0]!.truncate();
    } finally {
      const cleanup = createPool(pg(PG_URL), { size: 1, maxOverflow: 0, telemetry: false });
      await cleanup.use((c) => c.query(`drop table if exists ${TABLE}`)).catch(() => {});
      await cleanup.close();
      for (const s of all) await s.close();
    }
    return results;
  },
};

export default scenario;
