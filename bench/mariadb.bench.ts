/**
 * MariaDB throughput: `SELECT 1` and a 100-row query (`SELECT seq FROM seq_1_to_100`,
 * MariaDB's sequence engine) with 64 callers on 10 connections.
 *
 * Contenders, all with 10 connections and the same mariadb connector underneath
 * (except mysql2):
 * - bare free list (floor): 10 connector connections, a free list, no checks;
 * - cistern+mariadb: `pool.use((c) => c.query(sql))` (telemetry off, prePing on
 *   with its default window, resetOnReturn on: the defaults a user gets);
 * - mariadb.createPool: the connector's own pool, `pool.query(sql)`;
 * - mysql2 createPool: `pool.query(sql)`.
 * Each measurement runs in a fresh process (bench/lib/load-bench.ts), interleaved:
 * every repetition measures each contender once, in an order rotated per
 * repetition; the figure is the median ops/s (extra: median p50Ms, p99Ms, CPU µs
 * per query, the spread, and the ratios to the floor and to the best peer).
 * Full run: 5 repetitions of 3 s after 2.5 s of warm-up (as postgres.bench.ts, and for
 * its reasons: paired ratios over more repetitions, and the JIT's first two seconds kept
 * out of the figures); --quick: 1 of 2 s.
 *
 * `mariadb-slap --concurrency=64` (C client, 64 connections, over TCP) is printed
 * as the reference row when installed.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as mariadbConnector from 'mariadb';
import * as mysql2 from 'mysql2/promise';
import { mariadb } from '../src/drivers/mariadb/index.js';
import { MARIADB_URL, reachable } from '../test/support/servers.js';
import { freeListUse } from './lib/free-list.js';
import { type LoadSubject, loadBench, type OpenedSubject } from './lib/load-bench.js';
import { mariadbConnection } from './lib/mariadb-url.js';
import { readyPool } from './lib/ready-pool.js';
import { round } from './lib/stats.js';
import type { BenchContext, BenchResult, BenchScenario } from './lib/types.js';

const CALLERS = 64;
const CONNECTIONS = 10;
const QUERIES = [
  { name: 'select1', sql: 'SELECT 1' },
  { name: 'rows100', sql: 'SELECT seq FROM seq_1_to_100' },
] as const;

/**
 * The floor: 10 connector connections behind a bare free list and FIFO of waiters,
 * no timeouts, no checks. What any pool on this connector can at best reach.
 */
async function openBare(): Promise<OpenedSubject<string>> {
  const conns = await Promise.all(
    Array.from({ length: CONNECTIONS }, () =>
      mariadbConnector.createConnection({ ...mariadbConnection(), connectTimeout: 10_000 }),
    ),
  );
  const use = freeListUse(conns);
  return {
    query: (sql) => use((c) => c.query(sql)),
    async close() {
      await Promise.all(conns.map((c) => c.end()));
    },
  };
}

const subjects: LoadSubject<string>[] = [
  { name: 'bare free list (floor)', open: openBare },
  {
    name: 'cistern+mariadb',
    async open() {
      const pool = await readyPool(mariadb(MARIADB_URL), CONNECTIONS);
      return { query: (sql) => pool.use((c) => c.query(sql)), close: () => pool.close() };
    },
  },
  {
    name: 'mariadb.createPool',
    async open() {
      const pool = mariadbConnector.createPool({
        ...mariadbConnection(),
        connectionLimit: CONNECTIONS,
        minimumIdle: CONNECTIONS,
        connectTimeout: 10_000,
      });
      await Promise.all(Array.from({ length: CONNECTIONS }, () => pool.query('SELECT 1')));
      return { query: (sql) => pool.query(sql), close: () => pool.end() };
    },
  },
  {
    name: 'mysql2 createPool',
    async open() {
      const pool = mysql2.createPool({ ...mariadbConnection(), connectionLimit: CONNECTIONS });
      await Promise.all(Array.from({ length: CONNECTIONS }, () => pool.query('SELECT 1')));
      return { query: (sql) => pool.query(sql), close: () => pool.end() };
    },
  },
];

const run = promisify(execFile);

/** mariadb-slap over TCP: total queries / average seconds. */
async function slap(sql: string, queries: number): Promise<number | undefined> {
  const c = mariadbConnection();
  const args = [
    `--host=${c.host}`,
    `--port=${c.port}`,
    '--protocol=tcp',
    `--user=${c.user}`,
    `--create-schema=${c.database}`,
    `--concurrency=${CALLERS}`,
    '--iterations=1',
    `--number-of-queries=${queries}`,
    `--query=${sql}`,
  ];
  if (c.password) args.push(`--password=${c.password}`);
  try {
    const { stdout } = await run('mariadb-slap', args, { timeout: 120_000 });
    const m = /Average number of seconds to run all queries: ([\d.]+) seconds/.exec(stdout);
    if (!m) return undefined;
    return queries / Number(m[1]);
  } catch {
    return undefined;
  }
}

const scenario: BenchScenario = {
  name: 'mariadb',
  async skip() {
    return (await reachable(MARIADB_URL))
      ? undefined
      : `MariaDB not reachable at ${new URL(MARIADB_URL).host}`;
  },
  isolated: loadBench({
    subjects,
    cases: QUERIES.map((q) => ({
      scenario: `mariadb-${q.name}`,
      params: { callers: CALLERS, connections: CONNECTIONS, query: q.sql },
      callers: CALLERS,
      query: q.sql,
    })),
    durationMs: (quick) => (quick ? 2000 : 3000),
    warmMs: (quick) => (quick ? 300 : 2500),
    repetitions: (quick) => (quick ? 1 : 5),
    async references(ctx: BenchContext): Promise<BenchResult[]> {
      const rows: BenchResult[] = [];
      for (const query of QUERIES) {
        ctx.progress(`${query.name}: mariadb-slap`);
        const perSec = await slap(query.sql, ctx.quick ? 64 * 500 : 64 * 2000);
        if (perSec === undefined) continue;
        rows.push({
          scenario: `mariadb-${query.name}`,
          subject: 'mariadb-slap (C reference)',
          params: { callers: CALLERS, connections: CALLERS, query: query.sql },
          value: round(perSec),
          unit: 'ops/s',
        });
      }
      return rows;
    },
  }),
};

export default scenario;
