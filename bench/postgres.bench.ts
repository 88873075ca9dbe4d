/**
 * PostgreSQL throughput: `SELECT 1` and a 100-row query (`generate_series`),
 * with 64 callers and with 10 callers, on 10 connections.
 *
 * Contenders:
 * - cistern+postgres.js: `pool.use((c) => c.sql\`...\`)` — the defaults a user gets
 *   (telemetry off here, prePing on with its window, resetOnReturn on);
 * - postgres.js pool: `postgres(url, { max: 10 })`, `sql\`...\`` (pipelines onto busy connections);
 * - pg.Pool (max 10): `pool.query(text)`;
 * - cistern+pg: `pool.use((c) => c.query(text))` on `pg(url)` (one pg.Client per connection),
 *   the same defaults as cistern+postgres.js;
 * - cistern/pg Pool: the pg.Pool face (max 10), `pool.query(text)` as with pg.Pool.
 * Interleaved: every repetition measures each contender once, in an order rotated
 * per repetition; the figure is the median ops/s (extra: median p50Ms, p99Ms).
 * Full run: 3 repetitions of 10 s; --quick: 1 of 2 s.
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
import { closedLoop, type LoadSample } from './lib/closed-loop.js';
import { getGc } from './lib/gc.js';
import { median, round } from './lib/stats.js';
import type { BenchContext, BenchResult, BenchScenario } from './lib/types.js';

const CONNECTIONS = 10;
const CALLER_COUNTS = [64, 10] as const;

type QueryName = 'select1' | 'rows100';
const TEXT: Record<QueryName, string> = {
  select1: 'select 1',
  rows100: 'select generate_series(1, 100) as n',
};

interface Opened {
  query(name: QueryName): Promise<unknown>;
  close(): Promise<void>;
}

interface Subject {
  name: string;
  open(): Promise<Opened>;
}

type Tagged = (strings: TemplateStringsArray) => PromiseLike<unknown>;
/** The tagged-template forms, so postgres.js caches the statements as it would in an application. */
const tagged = (sql: Tagged, name: QueryName): PromiseLike<unknown> =>
  name === 'select1' ? sql`select 1` : sql`select generate_series(1, 100) as n`;

const subjects: Subject[] = [
  {
    name: 'cistern+postgres.js',
    async open() {
      const pool = createPool(postgres(PG_URL), {
        size: CONNECTIONS,
        maxOverflow: 0,
        minIdle: CONNECTIONS,
        telemetry: false,
      });
      await pool.ready();
      return {
        query: (name) => pool.use((c) => tagged(c.sql as unknown as Tagged, name)),
        close: () => pool.close(),
      };
    },
  },
  {
    name: 'postgres.js pool',
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
    async open() {
      const pool = new pg.Pool({ connectionString: PG_URL, max: CONNECTIONS });
      await Promise.all(Array.from({ length: CONNECTIONS }, () => pool.query('select pg_sleep(0.01)')));
      return { query: (name) => pool.query(TEXT[name]), close: () => pool.end() };
    },
  },
  {
    name: 'cistern+pg',
    async open() {
      const pool = createPool(pgDriver(PG_URL), {
        size: CONNECTIONS,
        maxOverflow: 0,
        minIdle: CONNECTIONS,
        telemetry: false,
      });
      await pool.ready();
      return { query: (name) => pool.use((c) => c.query(TEXT[name])), close: () => pool.close() };
    },
  },
  {
    name: 'cistern/pg Pool (face)',
    async open() {
      const pool = new CisternPgPool({ connectionString: PG_URL, max: CONNECTIONS, telemetry: false });
      await Promise.all(Array.from({ length: CONNECTIONS }, () => pool.query('select pg_sleep(0.01)')));
      return { query: (name) => pool.query(TEXT[name]), close: () => pool.end() };
    },
  },
];

/** `callers` loop until the deadline; every latency is kept (bounded by the duration). */
function measure(opened: Opened, name: QueryName, callers: number, durationMs: number): Promise<LoadSample> {
  return closedLoop(callers, durationMs, () => opened.query(name), name);
}

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
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const repetitions = ctx.quick ? 1 : 3;
    const durationMs = ctx.quick ? 2000 : 10_000;
    const warmMs = ctx.quick ? 300 : 1000;
    const gc = getGc();
    const results: BenchResult[] = [];
    for (const name of ['select1', 'rows100'] as const) {
      for (const callers of CALLER_COUNTS) {
        const label = `${name} x${callers}`;
        const opened: { subject: Subject; pool: Opened; samples: LoadSample[] }[] = [];
        try {
          for (const subject of subjects) {
            ctx.progress(`${label}: opening ${subject.name}`);
            const pool = await subject.open();
            opened.push({ subject, pool, samples: [] });
            ctx.progress(`${label}: warming up ${subject.name}`);
            await measure(pool, name, callers, warmMs);
          }
          for (let rep = 0; rep < repetitions; rep++) {
            for (let i = 0; i < opened.length; i++) {
              const o = opened[(i + rep) % opened.length];
              gc();
              ctx.progress(`${label}: ${o.subject.name} (repetition ${rep + 1}/${repetitions})`);
              o.samples.push(await measure(o.pool, name, callers, durationMs));
            }
          }
        } finally {
          for (const o of opened) await o.pool.close();
        }
        for (const o of opened) {
          results.push({
            scenario: `postgres-${name}`,
            subject: o.subject.name,
            params: { callers, connections: CONNECTIONS, query: TEXT[name] },
            value: round(median(o.samples.map((s) => s.opsPerSec))),
            unit: 'ops/s',
            extra: {
              p50Ms: round(median(o.samples.map((s) => s.p50Ms))),
              p99Ms: round(median(o.samples.map((s) => s.p99Ms))),
            },
          });
        }
      }
    }
    ctx.progress('select1: pgbench');
    const tps = await pgbench(Math.round(durationMs / 1000), 64);
    if (tps !== undefined) {
      results.push({
        scenario: 'postgres-select1',
        subject: 'pgbench (C reference)',
        params: { callers: 64, connections: 64, query: 'SELECT 1' },
        value: round(tps),
        unit: 'ops/s',
      });
    }
    return results;
  },
};

export default scenario;
