/**
 * Instructions per query of cistern+postgres.js against its ceiling (issue 11), for
 * callgrind: the machine is shared and loaded, so wall-clock queries per second move
 * from run to run; an instruction count does not. One process runs one subject over
 * 10 connections to the real PostgreSQL on 127.0.0.1: `WARMUP` queries, then `N`
 * more, from `CALLERS` concurrent callers (a closed loop; each caller takes the next
 * query number until the count is reached, so the count is exact whatever the timing).
 * The warm-up and the N queries are one unbroken loop. Run it twice, with N = 0 and
 * N = n, under `valgrind --tool=callgrind`; (Ir(n) - Ir(0)) / n is the subject's
 * instructions per query. `bench/pg-instructions.sh` does
 * that for every subject and caller count.
 *
 * Subjects (bench/pg-ceiling.ts has the same ones, measured in queries per second):
 * - `free`: a bare free list over 10 postgres.js `max: 1` instances; a waiter is a
 *   resolver in an array. The floor.
 * - `drv`: the same free list over cistern driver connections (socket gate, status
 *   parser, `reset` at check-in), no pool core.
 * - `acq`: `pool.acquire()` + `c.sql` + `pool.release(c)`.
 * - `use`: `pool.use((c) => c.sql...)`.
 *
 * The pool has the default options (prePing on with its 500 ms window, resetOnReturn,
 * the 30 s acquire timeout) and `telemetry: false`, size 10, no overflow, and a
 * 120 s connect timeout (connects under callgrind on a loaded machine take seconds). The pings
 * the pool sent (warm-up included) are printed (`pings=`), since a ping is a round trip
 * the floor never makes: under callgrind a connection idles ~50x longer than
 * natively, so a run that pinged is not comparable with one that did not.
 *
 * Query: `select1` (`select 1`) or `rows100` (`select generate_series(1, 100) as n`).
 *
 * env PRIOR=k: first open k instances of the same subject, one after another, each
 * loaded with WARMUP queries and closed, then the measured one (PRIOR=4: a process's
 * fifth pool, as a service that recreates its pool, or the fifth free list for the floor).
 * The k earlier instances are the same in both runs of a pair, so they cancel.
 *
 * Usage: node --expose-gc --import tsx bench/pg-instructions.ts <subject> <callers> <N> [WARMUP=3000] [select1|rows100]
 *   env PG_URL (default postgres://postgres@127.0.0.1:5432/test), PRIOR (default 0)
 */
import postgresjs from 'postgres';
import { type PgConnection, postgres, type Sql } from '../src/drivers/postgres/index.js';
import { createPool } from '../src/index.js';

const URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SIZE = 10;
/** Connects under callgrind on a loaded machine take seconds (the defaults, 10 s and 30 s, were too short). */
const CONNECT_TIMEOUT_MS = 120_000;
const SUBJECTS = ['free', 'drv', 'acq', 'use'] as const;
type SubjectName = (typeof SUBJECTS)[number];

const subject = process.argv[2] as SubjectName;
const callers = Number(process.argv[3]);
const n = Number(process.argv[4]);
const warmup = Number(process.argv[5] ?? 3000);
const queryName = process.argv[6] ?? 'select1';
const prior = Number(process.env.PRIOR ?? 0);
if (
  !SUBJECTS.includes(subject) ||
  !Number.isInteger(callers) ||
  callers < 1 ||
  !Number.isInteger(n) ||
  n < 0 ||
  !Number.isInteger(warmup) ||
  warmup < 0 ||
  (queryName !== 'select1' && queryName !== 'rows100') ||
  !Number.isInteger(prior) ||
  prior < 0
) {
  console.error(
    `usage: [PRIOR=k] pg-instructions.ts <${SUBJECTS.join('|')}> <callers >= 1> <queries >= 0> [warmup queries] [select1|rows100]` +
      ` (PRIOR: an integer >= 0, got ${JSON.stringify(process.env.PRIOR)})`,
  );
  process.exit(2);
}

/** The query on one postgres.js `sql`, as a tagged template (the form users write). */
const run: (sql: Sql) => Promise<unknown> =
  queryName === 'rows100' ? (sql) => sql`select generate_series(1, 100) as n` : (sql) => sql`select 1`;

/** `count` queries from `callers` concurrent callers, each taking the next query until none is left. */
async function load(count: number, query: () => Promise<unknown>): Promise<void> {
  let issued = 0;
  const caller = async (): Promise<void> => {
    while (issued < count) {
      issued++;
      await query();
    }
  };
  const all: Promise<void>[] = [];
  for (let i = 0; i < callers; i++) all.push(caller());
  await Promise.all(all);
}

interface Subject {
  query: () => Promise<unknown>;
  /** Round trips the subject made that were not queries (pool pings). */
  pings: () => number;
  close: () => Promise<void>;
}

/** A free list: a waiter is a resolver in an array (bench/pg-ceiling.ts). */
function freeList<T>(all: T[], put: (item: T) => void): { get(): Promise<T>; put(item: T): void } {
  const free = [...all];
  const waiters: Array<(item: T) => void> = [];
  return {
    get: () => (free.length > 0 ? Promise.resolve(free.pop()!) : new Promise<T>((r) => waiters.push(r))),
    put: (item) => {
      put(item);
      const w = waiters.shift();
      if (w) w(item);
      else free.push(item);
    },
  };
}

async function openFree(): Promise<Subject> {
  const all = Array.from({ length: SIZE }, () =>
    postgresjs(URL, { max: 1, onnotice: () => {}, connect_timeout: CONNECT_TIMEOUT_MS / 1000 }),
  );
  await Promise.all(all.map((s) => s`select 1`));
  const list = freeList(all, () => {});
  return {
    query: async () => {
      const s = await list.get();
      try {
        return await run(s as unknown as Sql);
      } finally {
        list.put(s);
      }
    },
    pings: () => 0,
    close: async () => {
      await Promise.all(all.map((s) => s.end({ timeout: 0 })));
    },
  };
}

async function openDriverFree(): Promise<Subject> {
  const driver = postgres(URL);
  let id = 0;
  const all = await Promise.all(
    Array.from({ length: SIZE }, () =>
      driver.connect({
        connectionId: ++id,
        timeoutMs: CONNECT_TIMEOUT_MS,
        signal: new AbortController().signal,
        observer: undefined,
        onDead: () => {},
      }),
    ),
  );
  const list = freeList<PgConnection>(all, (c) => driver.reset(c));
  return {
    query: async () => {
      const c = await list.get();
      try {
        return await run(c.sql);
      } finally {
        list.put(c);
      }
    },
    pings: () => 0,
    close: async () => {
      await Promise.all(all.map((c) => driver.close(c)));
    },
  };
}

async function openPool(kind: 'acq' | 'use'): Promise<Subject> {
  const driver = postgres(URL);
  let pings = 0;
  const ping = driver.ping.bind(driver);
  driver.ping = (c) => {
    pings++;
    return ping(c);
  };
  const pool = createPool(driver, {
    size: SIZE,
    maxOverflow: 0,
    telemetry: false,
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
  });
  // open all ten before measuring
  await Promise.all(Array.from({ length: SIZE }, () => pool.use((c) => run(c.sql))));
  const query =
    kind === 'use'
      ? () => pool.use((c) => run(c.sql))
      : async () => {
          const c = await pool.acquire();
          try {
            return await run(c.sql);
          } finally {
            pool.release(c);
          }
        };
  return { query, pings: () => pings, close: () => pool.close() };
}

const open = (): Promise<Subject> =>
  subject === 'free' ? openFree() : subject === 'drv' ? openDriverFree() : openPool(subject);

async function main(): Promise<void> {
  // PRIOR earlier instances of the same subject, each opened, run for `warmup` queries and
  // closed before the measured one (a service's fifth pool): the same in both runs of a
  // pair, so their instructions cancel, and what remains is what a query costs in the
  // PRIOR+1-th instance of the process
  for (let i = 0; i < prior; i++) {
    const earlier = await open();
    await load(warmup, earlier.query);
    await earlier.close();
  }
  const s = await open();
  // one unbroken loop of warm-up + N (as in mariadb-instructions.ts): callers that stopped
  // after the warm-up and started again made V8 recompile the path inside the measured
  // window of one run and not the other
  const cpu0 = process.cpuUsage();
  await load(warmup + n, s.query);
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `${subject} ${callers} callers ${queryName}: ${n} queries, pings=${s.pings()}, prior=${prior}` +
      `, ${((cpu.user + cpu.system) / (warmup + n)).toFixed(2)} µs CPU/query over warm-up + N`,
  );
  await s.close();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
