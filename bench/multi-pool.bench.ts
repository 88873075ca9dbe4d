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
 * each right after a run of the bare free list over the same driver objects (the floor,
 * new driver objects each time), and the floor once more after the last pool. Rows:
 * ops/s, CPU µs per call, `vsFirstPool` (this pool's speed relative to the first pool:
 * 1.0 means no slowdown), `cpuVsFirstPool` (the first pool's CPU per call over this
 * one's: > 1 cheaper), `vsFloor` and `cpuVsFloor` (the same against the floor run right
 * before this pool, seconds earlier: the pace of a shared machine drifts, so a pool is
 * compared with a floor measured next to it, not with one a minute away).
 * Each step: a full GC right after opening, then a warm-up under load (3 s; --quick
 * 0.2 s), then the measurement (4 s; --quick 1 s). The warm-up is long because the first
 * pool of a process is also the first run of cistern's code: measured second by second
 * (2026-12-07), the first MariaDB pool of a process ran at 27k and 30k queries/s in its
 * first two seconds and 52-54k in the next three (the floor before it: 44-56k). With 0.5 s
 * and 1.5 s of warm-up the first pool read 0.80 and 0.71 of the floor, the later ones
 * 0.86-1.11: the JIT's one-time cost, not a cost per pool.
 */
import * as mariadbConnector from 'mariadb';
import { mariadb } from '../src/drivers/mariadb/index.js';
import { postgres } from '../src/drivers/postgres/index.js';
import { type Driver, fromFactory } from '../src/index.js';
import { MARIADB_URL, PG_URL, reachable } from '../test/support/servers.js';
import { closedLoop } from './lib/closed-loop.js';
import { freeListUse } from './lib/free-list.js';
import { getGc } from './lib/gc.js';
import { mariadbConnection } from './lib/mariadb-url.js';
import { postgresJsFreeList } from './lib/postgres-free-lists.js';
import { readyPool } from './lib/ready-pool.js';
import { round } from './lib/stats.js';
import type { BenchContext, BenchResult, BenchScenario, SubjectRole } from './lib/types.js';

const CALLERS = 64;
const CONNECTIONS = 10;
const POOLS = 5;

interface Target {
  table: string;
  /** The floor: a bare free list over CONNECTIONS driver objects; returns one call and a close. */
  floor(): Promise<{ call(): PromiseLike<unknown>; close(): Promise<void> }>;
  /** A new cistern pool; returns one call and a close. */
  pool(): Promise<{ call(): PromiseLike<unknown>; close(): Promise<void> }>;
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

async function step(
  open: () => Promise<{ call(): PromiseLike<unknown>; close(): Promise<void> }>,
  durationMs: number,
  warmMs: number,
  describe: string,
): Promise<{ opsPerSec: number; cpuUsPerOp: number; p99Ms: number }> {
  const opened = await open();
  try {
    // as in bench/lib/load-bench.ts: the full GC right after opening, then the warm-up under
    // load, then the measurement (not a GC between the two)
    getGc()();
    await closedLoop(CALLERS, warmMs, () => opened.call(), describe);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const s = await closedLoop(CALLERS, durationMs, () => opened.call(), describe);
    const cpu = process.cpuUsage(cpu0);
    const ops = (s.opsPerSec * (performance.now() - t0)) / 1000;
    return { opsPerSec: s.opsPerSec, cpuUsPerOp: (cpu.user + cpu.system) / Math.max(1, ops), p99Ms: s.p99Ms };
  } finally {
    await opened.close();
  }
}

async function runTarget(t: Target, ctx: BenchContext): Promise<BenchResult[]> {
  const durationMs = ctx.quick ? 1000 : 4000;
  const warmMs = ctx.quick ? 200 : 3000;
  const rows: {
    subject: string;
    role: SubjectRole;
    /** The floor run right before this pool (pools only). */
    floor?: string;
    opsPerSec: number;
    cpuUsPerOp: number;
    p99Ms: number;
  }[] = [];
  const floorRun = async (subject: string): Promise<void> => {
    rows.push({
      subject,
      role: 'floor',
      ...(await step(() => t.floor(), durationMs, warmMs, `${t.table} ${subject}`)),
    });
  };
  for (let i = 1; i <= POOLS; i++) {
    // the floor again right before every pool: each pool is compared with a floor measured
    // seconds before it, not with one measured a minute earlier or later (the machine's pace
    // moved by up to 50 % within one run, 2026-12-07)
    const floor = `bare free list (floor), before pool ${i}`;
    ctx.progress(`${t.table}: floor before pool ${i}`);
    await floorRun(floor);
    ctx.progress(`${t.table}: pool ${i} of ${POOLS}`);
    rows.push({
      subject: i === 1 ? 'cistern pool 1 (first in the process)' : `cistern pool ${i}`,
      role: 'cistern',
      floor,
      ...(await step(() => t.pool(), durationMs, warmMs, `${t.table} pool ${i}`)),
    });
  }
  ctx.progress(`${t.table}: floor, after the pools`);
  await floorRun('bare free list (floor), after the pools');
  const first = rows[1];
  return rows.map((r) => {
    const floor = r.floor === undefined ? undefined : rows.find((x) => x.subject === r.floor);
    return {
      scenario: t.table,
      subject: r.subject,
      role: r.role,
      ...(r.floor !== undefined ? { floor: r.floor } : {}),
      params: { callers: CALLERS, connections: CONNECTIONS },
      value: round(r.opsPerSec),
      unit: 'ops/s',
      extra: {
        cpuUsPerOp: round(r.cpuUsPerOp),
        p99Ms: round(r.p99Ms),
        ...(r.role === 'cistern'
          ? {
              vsFirstPool: round(r.opsPerSec / first.opsPerSec),
              cpuVsFirstPool: round(first.cpuUsPerOp / r.cpuUsPerOp),
              ...(floor !== undefined
                ? {
                    vsFloor: round(r.opsPerSec / floor.opsPerSec),
                    cpuVsFloor: round(floor.cpuUsPerOp / r.cpuUsPerOp),
                  }
                : {}),
            }
          : {}),
      },
    };
  });
}

const scenario: BenchScenario = {
  name: 'multi-pool',
  estimateMs: (quick) => {
    const perTarget = (2 * POOLS + 1) * ((quick ? 1200 : 7000) + 300);
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
