/**
 * cistern+postgres.js against its floor, paired within ONE process, in short
 * alternating windows: tighter than the isolated `postgres` table (its repeated runs
 * differed by a few percent, the table's by up to ±10 %).
 *
 * Why: the isolated table runs each subject in a fresh process, one after another; on a
 * shared 2-core machine the pace moves by 10-40 % between processes seconds apart, so
 * its paired ratios of 5 repetitions scattered by ±5-10 % (cistern+postgres.js at 64
 * callers read 0.856, 0.95 and 0.973 of its floor in three runs of the same code,
 * 2026-12-07). Here all subjects are open at once in one process, warmed, and then
 * measured in turns of WINDOW ms (default 500), ROUNDS times (default 30), the order
 * reversed every other round: two windows of one pair are less than a second apart, and
 * the figure is the median over the rounds of the ratio within each round, with its
 * quartiles.
 *
 * Subjects (10 connections each, `SELECT 1`, CALLERS callers in a closed loop):
 * - `floor`: 10 postgres.js `max: 1` instances behind the bare free list
 *   (bench/lib/free-list.ts), as in the isolated table;
 * - `drv`: the same free list over the 10 connections of a cistern pool (`c.sql` of
 *   each, checked out once): cistern's driver layer without the pool;
 * - `acq`: `pool.acquire()`, `c.sql`, `pool.release(c)`;
 * - `use`: `pool.use((c) => c.sql\`select 1\`)`, as in the isolated table.
 * The pools have the defaults a user gets, telemetry off.
 *
 * What it is not: the subjects share one process, so they share V8's code and feedback
 * for postgres.js and Node's streams, as the pools of a service with several pools do,
 * and a pool idles while the others run, so the first checkouts of each window ping (the
 * pre-ping window, 500 ms by default, is shorter than the pause): 10 round trips in a
 * window of ~12,000 queries.
 *
 * Measured on a 2-core AMD EPYC, Node 20, PostgreSQL 15 on 127.0.0.1: this script on
 * 2026-12-08 00:36 UTC, 64 callers, `use` 0.963 of `floor` in throughput [quartiles
 * 0.905-1.029], `drv` 0.953, `acq` 0.945; 10 callers, `use` 0.965, `drv` 0.934, `acq`
 * 0.935. At 2026-12-07 23:53 (its first version, with a loop of its own instead of
 * bench/lib/closed-loop.ts): 0.945, 0.950, 0.936 and 1.001, 0.995, 0.970. Five earlier runs
 * of the same method (a scratch copy, 64 callers) put `use` at 0.928-0.968 and `drv` at
 * 1.007 once: closer than the isolated table, still a few percent from run to run. perf
 * over the windows (perf record -k CLOCK_MONOTONIC, each sample assigned to its window,
 * `drv` against `use`): cistern's own functions ~0.5 µs per query more than the free
 * list's, and postgres.js's and Node's per-chunk functions (`ondata`, `dispatch`,
 * `onStreamRead`) ~0.3 µs more in `use` windows than in `drv` windows, the same code on
 * the same data.
 *
 * Usage: node --import tsx bench/pg-in-process.ts
 *   env CALLERS (default "64 10"), WINDOW (ms, default 500), ROUNDS (default 30),
 *   SUBJECTS (default "floor drv acq use"; the first is the one the others are rated
 *   against), PG_URL. Needs PostgreSQL; about (2.5 s + ROUNDS x WINDOW) x subjects per
 *   caller count (2 x 70 s with the defaults).
 */
import { postgres } from '../src/drivers/postgres/index.js';
import { PG_URL, reachable } from '../test/support/servers.js';
import { alternatingWindows, closedLoop } from './lib/closed-loop.js';
import { cisternConnectionsFreeList, postgresJsFreeList, type Tagged } from './lib/postgres-free-lists.js';
import { readyPool } from './lib/ready-pool.js';
import { percentile } from './lib/stats.js';

interface Opened {
  call(): PromiseLike<unknown>;
  close(): Promise<void>;
}

const CONNECTIONS = 10;
const WARM_MS = 2500;

const openPool = () => readyPool(postgres(PG_URL), CONNECTIONS);

const openers: Record<string, () => Promise<Opened>> = {
  async floor() {
    const list = await postgresJsFreeList(PG_URL, CONNECTIONS);
    return { call: () => list.use((sql) => sql`select 1`), close: list.close };
  },
  async drv() {
    const list = await cisternConnectionsFreeList(PG_URL, CONNECTIONS);
    return { call: () => list.use((sql) => sql`select 1`), close: list.close };
  },
  async acq() {
    const pool = await openPool();
    return {
      call: async () => {
        const c = await pool.acquire();
        try {
          return await (c.sql as unknown as Tagged)`select 1`;
        } finally {
          pool.release(c);
        }
      },
      close: () => pool.close(),
    };
  },
  async use() {
    const pool = await openPool();
    return { call: () => pool.use((c) => (c.sql as unknown as Tagged)`select 1`), close: () => pool.close() };
  },
};

function quantile(xs: readonly number[], q: number): number {
  return percentile(
    [...xs].sort((a, b) => a - b),
    q,
  );
}

const fmt = (x: number, digits = 3) => x.toFixed(digits);

async function main(): Promise<void> {
  if (!(await reachable(PG_URL))) {
    console.error(`PostgreSQL not reachable at ${new URL(PG_URL).host}`);
    process.exit(2);
  }
  const callerCounts = (process.env.CALLERS ?? '64 10').split(/\s+/).filter(Boolean).map(Number);
  const windowMs = Number(process.env.WINDOW ?? 500);
  const rounds = Number(process.env.ROUNDS ?? 30);
  const names = (process.env.SUBJECTS ?? 'floor drv acq use').split(/\s+/).filter(Boolean);
  for (const n of names) {
    if (!(n in openers))
      throw new RangeError(`unknown subject '${n}' (allowed: ${Object.keys(openers).join(', ')})`);
  }
  if (!(windowMs > 0) || !(rounds > 0) || callerCounts.some((c) => !(c > 0))) {
    throw new RangeError('WINDOW, ROUNDS and CALLERS must be positive numbers');
  }
  console.log(
    `node ${process.version}, SELECT 1, ${CONNECTIONS} connections, ${rounds} rounds of ${windowMs} ms per subject, one process`,
  );
  const opened: Record<string, Opened> = {};
  try {
    for (const n of names) opened[n] = await openers[n]!();
    for (const callers of callerCounts) {
      for (const n of names) await closedLoop(callers, WARM_MS, () => opened[n]!.call(), `${n} warm-up`);
      const samples = await alternatingWindows(
        Object.fromEntries(names.map((n) => [n, () => opened[n]!.call()])),
        callers,
        windowMs,
        rounds,
      );
      const ops = Object.fromEntries(names.map((n) => [n, samples[n]!.map((x) => x.opsPerSec)]));
      const cpu = Object.fromEntries(names.map((n) => [n, samples[n]!.map((x) => x.cpuUsPerOp)]));
      const base = names[0]!;
      console.log(`\n${callers} callers (ratios against ${base}, paired per round: median [quartiles])`);
      for (const n of names) {
        const q = ops[n]!.map((x, i) => x / ops[base]![i]!);
        const c = cpu[n]!.map((x, i) => cpu[base]![i]! / x);
        console.log(
          `  ${n.padEnd(6)} ${Math.round(quantile(ops[n]!, 0.5)).toLocaleString('en-US').padStart(7)} ops/s` +
            `  ${fmt(quantile(cpu[n]!, 0.5), 2).padStart(6)} µs CPU/query` +
            (n === base
              ? ''
              : `  throughput ${fmt(quantile(q, 0.5))} [${fmt(quantile(q, 0.25))}-${fmt(quantile(q, 0.75))}]` +
                `  CPU ${fmt(quantile(c, 0.5))} [${fmt(quantile(c, 0.25))}-${fmt(quantile(c, 0.75))}] (> 1: cheaper)`),
        );
      }
    }
  } finally {
    for (const o of Object.values(opened)) await o.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
