/**
 * multi-pool: several pools one after another in ONE process (issue 11, the
 * second-pool slowdown). A service that creates a second pool (a replica, a second
 * database, a test that recreates its pool) must get the same cost per call from
 * it as from the first. Every other scenario measures each subject in a fresh
 * process, which hides this class of slowdown; this one shows it on purpose.
 *
 * For each target — an in-memory resource (always; the core alone), PostgreSQL via
 * postgres.js and MariaDB (when reachable) — in one process: 5 cistern pools in turn
 * (each new, size 10, telemetry off, 64 callers running `pool.use(...)`, then closed),
 * each beside a new bare free list over the same kind of driver objects (the floor): both
 * opened, a full GC, each warmed under load (3 s; --quick 0.2 s), then measured in 8
 * alternating windows of 500 ms each (--quick 4 of 250 ms; the order reversed every
 * other round), then both closed. Rows: ops/s, CPU µs per call and p99 (medians over the
 * windows); for a pool, `vsFloor` and `cpuVsFloor` (the median over the rounds of its
 * throughput over the floor's in the same round, and of the floor's CPU per call over
 * its own: > 1 cheaper), and `vsFirstPool` / `cpuVsFirstPool` (its `vsFloor` /
 * `cpuVsFloor` over the first pool's: 1.0 means the fifth pool stands against its floor
 * as the first did). Until 2026-12-08 each pool ran after a floor run of its own (4 s each,
 * seconds apart): the floors of one run then moved by up to 50 % (24,700 to 37,900
 * queries/s within two minutes), and so did the ratios (PostgreSQL pools 0.82-1.19 of
 * their floors in one run); windows under a second apart cancel most of that drift.
 * The warm-up is long because the first pool of a process is also the first run of
 * cistern's code: measured second by second (2026-12-07), the first MariaDB pool of a
 * process ran at 27k and 30k queries/s in its first two seconds and 52-54k in the next
 * three (the floor before it: 44-56k): the JIT's one-time cost, not a cost per pool.
 * The deterministic companion: `PRIOR=4 bash bench/pg-instructions.sh free use` and
 * `bench/mariadb-instructions.sh` (bench/README.md), instructions per query of a process's
 * fifth pool.
 */
import * as mariadbConnector from 'mariadb';
import { mariadb } from '../src/drivers/mariadb/index.js';
import { postgres } from '../src/drivers/postgres/index.js';
import { type Driver, fromFactory } from '../src/index.js';
import { MARIADB_URL, PG_URL, reachable } from '../test/support/servers.js';
import { alternatingWindows, closedLoop, type LoadSample } from './lib/closed-loop.js';
import { freeListUse } from './lib/free-list.js';
import { getGc } from './lib/gc.js';
import { mariadbConnection } from './lib/mariadb-url.js';
import { postgresJsFreeList } from './lib/postgres-free-lists.js';
import { readyPool } from './lib/ready-pool.js';
import { median, round } from './lib/stats.js';
import type { BenchContext, BenchResult, BenchScenario } from './lib/types.js';

const CALLERS = 64;
const CONNECTIONS = 10;
const POOLS = 5;

interface Opened {
  call(): PromiseLike<unknown>;
  close(): Promise<void>;
}

interface Target {
  table: string;
  /** The floor: a bare free list over CONNECTIONS driver objects; returns one call and a close. */
  floor(): Promise<Opened>;
  /** A new cistern pool; returns one call and a close. */
  pool(): Promise<Opened>;
}

interface Resource {
  id: number;
}

const memory: Target = {
  table: 'multi-pool-memory',
  async floor() {
    const use = freeListUse(Array.from({ length: CONNECTIONS }, (_, id): Resource => ({ id })));
    return { call: () => use(async (r) => r.id), close: async () => {} };
  },
  async pool() {
    let id = 0;
    const pool = await readyPool(
      fromFactory<Resource>({ create: async () => ({ id: ++id }), destroy: async () => {} }),
      CONNECTIONS,
    );
    return { call: () => pool.use(async (r) => r.id), close: () => pool.close() };
  },
};

const pg: Target = {
  table: 'multi-pool-postgres',
  async floor() {
    const list = await postgresJsFreeList(PG_URL, CONNECTIONS);
    return { call: () => list.use((sql) => sql`select 1`), close: list.close };
  },
  async pool() {
    const pool = await readyPool(postgres(PG_URL), CONNECTIONS);
    return { call: () => pool.use((c) => c.sql`select 1`), close: () => pool.close() };
  },
};

const maria: Target = {
  table: 'multi-pool-mariadb',
  async floor() {
    const conns = await Promise.all(
      Array.from({ length: CONNECTIONS }, () =>
        mariadbConnector.createConnection({ ...mariadbConnection(), connectTimeout: 10_000 }),
      ),
    );
    const use = freeListUse(conns);
    return {
      call: () => use((c) => c.query('SELECT 1')),
      close: async () => void (await Promise.all(conns.map((c) => c.end()))),
    };
  },
  async pool() {
    const pool = await readyPool(
      mariadb(MARIADB_URL) as Driver<{ query(sql: string): Promise<unknown> }>,
      CONNECTIONS,
    );
    return { call: () => pool.use((c) => c.query('SELECT 1')), close: () => pool.close() };
  },
};

interface PairedRun {
  floor: Omit<LoadSample, 'p50Ms'>;
  pool: Omit<LoadSample, 'p50Ms'>;
  /** Median over the rounds of the pool's throughput over the floor's in the same round. */
  vsFloor: number;
  /** The same for CPU per call, floor's over the pool's (> 1: the pool is cheaper). */
  cpuVsFloor: number;
}

/**
 * Pool `i` and a new floor beside it: both opened, a full GC, each warmed under load, then
 * measured in `rounds` alternating windows of `windowMs` (the order reversed every other
 * round), then both closed. Two windows of a pair are under a second apart, so the
 * machine's drift, which moved the floor by 30-50 % between runs a minute apart
 * (2026-12-07/08), mostly cancels in the paired ratio.
 */
async function pairedRun(
  t: Target,
  i: number,
  windowMs: number,
  rounds: number,
  warmMs: number,
): Promise<PairedRun> {
  const floor = await t.floor();
  try {
    const pool = await t.pool();
    try {
      // as in bench/lib/load-bench.ts: the full GC right after opening, then the warm-up
      // under load, then the measurement (not a GC between the two)
      getGc()();
      await closedLoop(CALLERS, warmMs, () => floor.call(), `${t.table} floor ${i} warm-up`);
      await closedLoop(CALLERS, warmMs, () => pool.call(), `${t.table} pool ${i} warm-up`);
      const { floor: f, pool: p } = await alternatingWindows(
        { floor: () => floor.call(), pool: () => pool.call() },
        CALLERS,
        windowMs,
        rounds,
        `${t.table} pool ${i}: `,
      );
      const summary = (xs: LoadSample[]) => ({
        opsPerSec: median(xs.map((x) => x.opsPerSec)),
        cpuUsPerOp: median(xs.map((x) => x.cpuUsPerOp)),
        p99Ms: median(xs.map((x) => x.p99Ms)),
      });
      return {
        floor: summary(f),
        pool: summary(p),
        vsFloor: median(p.map((x, k) => x.opsPerSec / f[k]!.opsPerSec)),
        cpuVsFloor: median(p.map((x, k) => f[k]!.cpuUsPerOp / x.cpuUsPerOp)),
      };
    } finally {
      await pool.close();
    }
  } finally {
    await floor.close();
  }
}

/** Measured windows per subject and pool: ROUNDS of WINDOW ms (4 s; --quick 1 s). */
const timing = (quick: boolean) =>
  quick ? { windowMs: 250, rounds: 4, warmMs: 200 } : { windowMs: 500, rounds: 8, warmMs: 3000 };

async function runTarget(t: Target, ctx: BenchContext): Promise<BenchResult[]> {
  const { windowMs, rounds, warmMs } = timing(ctx.quick);
  const runs: PairedRun[] = [];
  for (let i = 1; i <= POOLS; i++) {
    ctx.progress(`${t.table}: pool ${i} of ${POOLS} beside a new floor`);
    runs.push(await pairedRun(t, i, windowMs, rounds, warmMs));
  }
  const first = runs[0]!;
  const results: BenchResult[] = [];
  runs.forEach((run, k) => {
    const i = k + 1;
    const floorName = `bare free list (floor), beside pool ${i}`;
    const base = { scenario: t.table, params: { callers: CALLERS, connections: CONNECTIONS }, unit: 'ops/s' };
    results.push({
      ...base,
      subject: floorName,
      role: 'floor',
      value: round(run.floor.opsPerSec),
      extra: { cpuUsPerOp: round(run.floor.cpuUsPerOp), p99Ms: round(run.floor.p99Ms) },
    });
    results.push({
      ...base,
      subject: i === 1 ? 'cistern pool 1 (first in the process)' : `cistern pool ${i}`,
      role: 'cistern',
      floor: floorName,
      value: round(run.pool.opsPerSec),
      extra: {
        cpuUsPerOp: round(run.pool.cpuUsPerOp),
        p99Ms: round(run.pool.p99Ms),
        // against the first pool through the floors: pool i's standing against its floor over
        // pool 1's against its own (a raw comparison a minute apart would measure the machine)
        vsFirstPool: round(run.vsFloor / first.vsFloor),
        cpuVsFirstPool: round(run.cpuVsFloor / first.cpuVsFloor),
        vsFloor: round(run.vsFloor),
        cpuVsFloor: round(run.cpuVsFloor),
      },
    });
  });
  return results;
}

const scenario: BenchScenario = {
  name: 'multi-pool',
  estimateMs: (quick) => {
    const { windowMs, rounds, warmMs } = timing(quick);
    // per pool: two warm-ups, 2 x rounds windows, ~600 ms to open and close both
    const perTarget = POOLS * (2 * warmMs + 2 * rounds * windowMs + 600);
    return perTarget * 3;
  },
  async run(ctx) {
    const results = await runTarget(memory, ctx);
    if (await reachable(PG_URL)) results.push(...(await runTarget(pg, ctx)));
    if (await reachable(MARIADB_URL)) results.push(...(await runTarget(maria, ctx)));
    return results;
  },
};

export default scenario;
