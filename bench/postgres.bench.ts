/**
 * PostgreSQL throughput: `SELECT 1` and a 100-row query (`generate_series`),
 * with 64 callers and with 10 callers, on 10 connections.
 *
 * Contenders:
 * - postgres.js free list (floor): 10 postgres.js `max: 1` instances behind a bare free
 *   list (bench/lib/free-list.ts): the ceiling for any pool over postgres.js;
 * - pg.Client free list (floor): 10 connected `pg.Client`s behind the same free list:
 *   the ceiling for any pool over pg, the floor of pg.Pool, cistern+pg and the
 *   cistern/pg face (each row's `vsFloor` is against the floor of its own driver);
 * - cistern+postgres.js: `pool.use((c) => c.sql\`...\`)` — the defaults a user gets
 *   (telemetry off here, prePing on with its window, resetOnReturn on);
 * - cistern+postgres.js connections, free list: the same bare free list as the floor, over
 *   the 10 connections of a cistern pool (all checked out once, `c.sql` of each): cistern's
 *   driver layer (its socket gate, the transaction-status reader, its postgres.js options)
 *   without the pool. Against the floor it is what the driver layer costs; cistern+postgres.js
 *   against it is what the pool's `use` costs (its `vsFloor` is against the floor, like
 *   every row of the driver);
 * - postgres.js pool: `postgres(url, { max: 10 })`, `sql\`...\`` (pipelines onto busy connections);
 * - pg.Pool (max 10): `pool.query(text)`;
 * - cistern+pg: `pool.use((c) => c.query(text))` on `pg(url)` (one pg.Client per connection),
 *   the same defaults as cistern+postgres.js;
 * - cistern/pg Pool: the pg.Pool face (max 10), `pool.query(text)` as with pg.Pool.
 * Each measurement runs in a fresh process (bench/lib/load-bench.ts), interleaved:
 * every repetition measures each contender once, in an order rotated per
 * repetition; the figure is the median ops/s (extra: median p50Ms, p99Ms, CPU µs
 * per query, spread, vsFloor, vsBestPeer). Full run: 5 repetitions of 3 s after 2.5 s
 * of warm-up; --quick: 1 of 2 s. Five short repetitions rather than three long ones:
 * the paired ratios (vsFloor, vsBestPeer) are medians over repetitions, and on a shared
 * 2-core machine one repetition in three ran at 0.83-0.90 of the others (2026-12-07);
 * 2.5 s of warm-up because V8 still re-compiled postgres.js's `Query` ~20 times in the
 * first second of a process on Node 20, and every subject (the floors too) ran its first
 * two seconds 10-40 % below its later pace (queries per second, second by second, in a
 * fresh process, 2026-12-07): a shorter warm-up bills the JIT to whoever has more code.
 * The second-pool slowdown of a long-lived process is measured by
 * bench/multi-pool.bench.ts.
 *
 * `pgbench -n -M prepared -c 64 -j 2 -T <s> -f <SELECT 1 script>` is printed as
 * the C reference row when pgbench is installed.
 *
 * Reading the figures: postgres.js's own pool slows down during a run. Profiled
 * (64 callers, SELECT 1, 10 s): 28 % of CPU in postgres.js src/queue.js `remove`,
 * an `indexOf` over a backing array that `shift` only compacts when the queue is
 * completely empty; under sustained load the `busy` queue never empties, so every
 * `move()` scans an array that grows by one slot per query (measured in 2 s
 * windows: 19k -> 7.7k ops/s). cistern's one-connection instances go open <-> busy
 * on every query, so their queues empty each time and stay O(1). In exchange the
 * postgres.js pool pipelines several queries per connection (fewer syscalls per
 * query), which wins when per-query work is larger (the 100-row query).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import postgresjs from 'postgres';
import { Pool as CisternPgPool, pg as pgDriver } from '../src/drivers/pg/index.js';
import { postgres } from '../src/drivers/postgres/index.js';
import { createPool } from '../src/index.js';
import { PG_URL, reachable } from '../test/support/servers.js';
import { freeListUse } from './lib/free-list.js';
import { loadBench, type OpenedSubject } from './lib/load-bench.js';
import { cisternConnectionsFreeList, postgresJsFreeList, type Tagged } from './lib/postgres-free-lists.js';
import { readyPool } from './lib/ready-pool.js';
import { round } from './lib/stats.js';
import type { BenchContext, BenchResult, BenchScenario } from './lib/types.js';

const CONNECTIONS = 10;
const CALLER_COUNTS = [64, 10] as const;

type QueryName = 'select1' | 'rows100';
const TEXT: Record<QueryName, string> = {
  select1: 'select 1',
  rows100: 'select generate_series(1, 100) as n',
};

type Opened = OpenedSubject<QueryName>;

interface Subject {
  name: string;
  /** The floor of the subject's driver (the table has one per driver). */
  floor?: string;
  open(): Promise<Opened>;
}

const POSTGRES_JS_FLOOR = 'postgres.js free list (floor)';
const PG_FLOOR = 'pg.Client free list (floor)';

/** The tagged-template forms, so postgres.js caches the statements as it would in an application. */
const tagged = (sql: Tagged, name: QueryName): PromiseLike<unknown> =>
  name === 'select1' ? sql`select 1` : sql`select generate_series(1, 100) as n`;

const subjects: Subject[] = [
  {
    name: POSTGRES_JS_FLOOR,
    async open() {
      const list = await postgresJsFreeList(PG_URL, CONNECTIONS);
      return { query: (name) => list.use((sql) => tagged(sql, name)), close: list.close };
    },
  },
  {
    name: PG_FLOOR,
    async open() {
      const clients = Array.from({ length: CONNECTIONS }, () => new pg.Client({ connectionString: PG_URL }));
      // a client's error (e.g. its backend terminated) must not crash the process
      for (const c of clients) c.on('error', () => {});
      await Promise.all(clients.map((c) => c.connect()));
      const use = freeListUse(clients);
      // pg's callback form, as pg.Pool and cistern's pg driver call it. Its promise form
      // (`c.query(text)`) measured 68-78 µs CPU per 100-row query at 10 callers against
      // 50-56 for this (2026-12-07): V8 pretenured two of its allocation sites
      // (--trace-pretenuring-statistics: every object of both survived each scavenge), and
      // old space then filled by ~30 MB between mark-compacts every ~350 ms.
      const query = (c: pg.Client, text: string) =>
        new Promise<unknown>((resolve, reject) =>
          c.query(text, (error: Error | null, result: unknown) => (error ? reject(error) : resolve(result))),
        );
      return {
        query: (name) => use((c) => query(c, TEXT[name])),
        close: async () => void (await Promise.all(clients.map((c) => c.end()))),
      };
    },
  },
  {
    name: 'cistern+postgres.js',
    floor: POSTGRES_JS_FLOOR,
    async open() {
      const pool = await readyPool(postgres(PG_URL), CONNECTIONS);
      return {
        query: (name) => pool.use((c) => tagged(c.sql as unknown as Tagged, name)),
        close: () => pool.close(),
      };
    },
  },
  {
    name: 'cistern+postgres.js connections, free list',
    floor: POSTGRES_JS_FLOOR,
    async open() {
      const list = await cisternConnectionsFreeList(PG_URL, CONNECTIONS);
      return { query: (name) => list.use((sql) => tagged(sql, name)), close: list.close };
    },
  },
  {
    name: 'postgres.js pool',
    floor: POSTGRES_JS_FLOOR,
    async open() {
      const sql = postgresjs(PG_URL, { max: CONNECTIONS, onnotice: () => {} });
      await Promise.all(Array.from({ length: CONNECTIONS }, () => sql`select pg_sleep(0.01)`));
      return {
        query: (name) => tagged(sql as unknown as Tagged, name) as Promise<unknown>,
        close: () => sql.end(),
      };
    },
  },
  {
    name: 'pg.Pool',
    floor: PG_FLOOR,
    async open() {
      const pool = new pg.Pool({ connectionString: PG_URL, max: CONNECTIONS });
      // an idle client's error (e.g. its backend terminated) is emitted on the pool: without a
      // listener it crashes the process, as pg documents
      pool.on('error', () => {});
      await Promise.all(Array.from({ length: CONNECTIONS }, () => pool.query('select pg_sleep(0.01)')));
      return { query: (name) => pool.query(TEXT[name]), close: () => pool.end() };
    },
  },
  {
    name: 'cistern+pg',
    floor: PG_FLOOR,
    async open() {
      // every feature on (issue 12's target), spelled out although these are the defaults
      const pool = createPool(pgDriver(PG_URL), {
        size: CONNECTIONS,
        maxOverflow: 0,
        minIdle: CONNECTIONS,
        prePing: true,
        prePingWindowMs: 500,
        resetOnReturn: true,
        maxLifetimeMs: 1_800_000,
        telemetry: false,
      });
      await pool.ready();
      return { query: (name) => pool.use((c) => c.query(TEXT[name])), close: () => pool.close() };
    },
  },
  {
    name: 'cistern/pg Pool (face)',
    floor: PG_FLOOR,
    async open() {
      const pool = new CisternPgPool({ connectionString: PG_URL, max: CONNECTIONS, telemetry: false });
      await Promise.all(Array.from({ length: CONNECTIONS }, () => pool.query('select pg_sleep(0.01)')));
      return { query: (name) => pool.query(TEXT[name]), close: () => pool.end() };
    },
  },
];

const run = promisify(execFile);

/** pgbench with a custom `SELECT 1` script, prepared protocol: transactions per second. */
async function pgbench(seconds: number, clients: number): Promise<number | undefined> {
  const u = new URL(PG_URL);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cistern-pgbench-'));
  const script = path.join(dir, 'select1.sql');
  fs.writeFileSync(script, 'SELECT 1;\n');
  const args = [
    '-n',
    '-M',
    'prepared',
    '-c',
    String(clients),
    '-j',
    '2',
    '-T',
    String(seconds),
    '-f',
    script,
  ];
  args.push('-h', u.hostname, '-p', u.port || '5432', '-U', decodeURIComponent(u.username || 'postgres'));
  args.push(decodeURIComponent(u.pathname.slice(1) || 'postgres'));
  try {
    const env = { ...process.env, ...(u.password ? { PGPASSWORD: decodeURIComponent(u.password) } : {}) };
    const { stdout } = await run('pgbench', args, { timeout: (seconds + 30) * 1000, env });
    const m =
      /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout) ?? /tps = ([\d.]+)/.exec(stdout);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const scenario: BenchScenario = {
  name: 'postgres',
  async skip() {
    return (await reachable(PG_URL)) ? undefined : `PostgreSQL not reachable at ${new URL(PG_URL).host}`;
  },
  isolated: loadBench<QueryName>({
    subjects,
    cases: (['select1', 'rows100'] as const).flatMap((name) =>
      CALLER_COUNTS.map((callers) => ({
        scenario: `postgres-${name}`,
        params: { callers, connections: CONNECTIONS, query: TEXT[name] },
        callers,
        query: name,
      })),
    ),
    durationMs: (quick) => (quick ? 2000 : 3000),
    warmMs: (quick) => (quick ? 300 : 2500),
    repetitions: (quick) => (quick ? 1 : 5),
    async references(ctx: BenchContext): Promise<BenchResult[]> {
      ctx.progress('select1: pgbench');
      const seconds = ctx.quick ? 2 : 6;
      const tps = await pgbench(seconds, 64);
      if (tps === undefined) return [];
      return [
        {
          scenario: 'postgres-select1',
          subject: 'pgbench (C reference)',
          params: { callers: 64, connections: 64, query: 'SELECT 1' },
          value: round(tps),
          unit: 'ops/s',
        },
      ];
    },
  }),
};

export default scenario;
