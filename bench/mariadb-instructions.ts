/**
 * Instructions per query of the MariaDB path, for callgrind (issue 11: cistern+mariadb
 * against the bare free list of bench/mariadb.bench.ts). One process runs one subject
 * on 10 connections to the real server: `WARMUP` + `N` queries in one unbroken run,
 * `CALLERS` loops sharing one count, each query `SELECT 1` or the 100-row
 * `SELECT seq FROM seq_1_to_100`. Run it twice, with N = 0 and N = n, under
 * `valgrind --tool=callgrind --separate-threads=yes`; (Ir(n) - Ir(0)) / n of the main
 * thread is the subject's instructions per query. `bench/mariadb-instructions.sh`
 * does that for every subject.
 *
 * Subjects (all over `mariadb` connector connections):
 * - `bare`: the bench's floor, connector connections behind bench/lib/free-list.ts;
 * - `driver`: the same free list over cistern's driver connections
 *   (`MariadbDriver.connect`, telemetry off: no observer), `c.query(sql)`: the
 *   driver adapter alone, no pool;
 * - `driver-loan`: `driver` plus the driver calls the pool makes per loan
 *   (`isAlive` at check-out, `reset` at check-in), still no pool;
 * - `acquire`: cistern, `pool.acquire()`, `c.query(sql)`, `pool.release(c)`;
 * - `use`: cistern, `pool.use((c) => c.query(sql))`.
 * The pools are the bench's: size 10, no overflow, minIdle 10, telemetry off, the
 * other options at their defaults (prePing with its window, resetOnReturn).
 *
 * env PRIOR=k: first open k instances of the same subject, one after another, each
 * loaded with WARMUP queries and closed, then the measured one (PRIOR=4: a process's
 * fifth pool, or fifth bare free list); the same in both runs of a pair, so they cancel.
 *
 * Usage: node --expose-gc --import tsx bench/mariadb-instructions.ts <subject> <N> [WARMUP] [CALLERS] [select1|rows100]
 */
import * as connector from 'mariadb';
import type { MariadbConnection } from '../src/drivers/mariadb/index.js';
import { mariadb } from '../src/drivers/mariadb/index.js';
import { createPool } from '../src/index.js';
import type { Driver } from '../src/pool/driver.js';
import { MARIADB_URL } from '../test/support/servers.js';
import { freeListUse } from './lib/free-list.js';
import { mariadbConnection } from './lib/mariadb-url.js';

const SUBJECTS = ['bare', 'driver', 'driver-loan', 'acquire', 'use'] as const;
type SubjectName = (typeof SUBJECTS)[number];
const QUERIES = { select1: 'SELECT 1', rows100: 'SELECT seq FROM seq_1_to_100' } as const;
const CONNECTIONS = 10;
/** Under callgrind, with other runs beside it, a handshake took over 13 s of wall time. */
const CONNECT_TIMEOUT_MS = 120_000;

const subject = process.argv[2] as SubjectName;
const n = Number(process.argv[3]);
const warmup = Number(process.argv[4] ?? 2000);
const callers = Number(process.argv[5] ?? 64);
const queryName = (process.argv[6] ?? 'select1') as keyof typeof QUERIES;
const prior = Number(process.env.PRIOR ?? 0);
if (
  !SUBJECTS.includes(subject) ||
  !Number.isInteger(n) ||
  n < 0 ||
  !Number.isInteger(warmup) ||
  warmup < 0 ||
  !Number.isInteger(callers) ||
  callers < 1 ||
  !(queryName in QUERIES) ||
  !Number.isInteger(prior) ||
  prior < 0
) {
  console.error(
    `usage: [PRIOR=k] mariadb-instructions.ts <${SUBJECTS.join('|')}> <queries, an integer >= 0> [warmup] [callers] [${Object.keys(QUERIES).join('|')}]` +
      ` (PRIOR: an integer >= 0, got ${JSON.stringify(process.env.PRIOR)})`,
  );
  process.exit(2);
}
const sql = QUERIES[queryName];

interface Opened {
  query(): PromiseLike<unknown>;
  close(): Promise<void>;
}

async function openBare(): Promise<Opened> {
  const conns = await Promise.all(
    Array.from({ length: CONNECTIONS }, () =>
      connector.createConnection({ ...mariadbConnection(), connectTimeout: CONNECT_TIMEOUT_MS }),
    ),
  );
  const use = freeListUse(conns);
  return {
    query: () => use((c) => c.query(sql)),
    close: async () => {
      await Promise.all(conns.map((c) => c.end()));
    },
  };
}

async function openDriver(loan: boolean): Promise<Opened> {
  const driver: Driver<MariadbConnection> = mariadb(MARIADB_URL);
  const signal = new AbortController().signal;
  const conns = await Promise.all(
    Array.from({ length: CONNECTIONS }, (_, i) =>
      driver.connect({ connectionId: i + 1, timeoutMs: CONNECT_TIMEOUT_MS, signal, onDead: () => {} }),
    ),
  );
  const use = freeListUse(conns);
  const close = async () => {
    await Promise.all(conns.map((c) => driver.close(c)));
  };
  if (!loan) return { query: () => use((c) => c.query(sql)), close };
  // what the pool asks the driver per loan, in its order: isAlive at check-out, reset at check-in
  return {
    query: () =>
      use(async (c) => {
        if (!driver.isAlive!(c)) throw new Error('connection dead');
        const rows = await c.query(sql);
        const pending = driver.reset!(c);
        if (pending !== undefined) await pending;
        return rows;
      }),
    close,
  };
}

async function openPool(kind: 'acquire' | 'use'): Promise<Opened> {
  const pool = createPool(mariadb(MARIADB_URL), {
    size: CONNECTIONS,
    maxOverflow: 0,
    minIdle: CONNECTIONS,
    telemetry: false,
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
  });
  await pool.ready();
  const close = () => pool.close();
  if (kind === 'use') return { query: () => pool.use((c) => c.query(sql)), close };
  return {
    async query() {
      const c = await pool.acquire();
      try {
        return await c.query(sql);
      } finally {
        pool.release(c);
      }
    },
    close,
  };
}

/** `count` queries over `callers` loops sharing the count. */
async function run(opened: Opened, count: number): Promise<void> {
  let left = count;
  const caller = async () => {
    while (left > 0) {
      left--;
      await opened.query();
    }
  };
  await Promise.all(Array.from({ length: Math.min(callers, Math.max(count, 1)) }, caller));
}

const open = (): Promise<Opened> =>
  subject === 'bare'
    ? openBare()
    : subject === 'driver' || subject === 'driver-loan'
      ? openDriver(subject === 'driver-loan')
      : openPool(subject);

async function main(): Promise<void> {
  // PRIOR earlier instances first (a service's fifth pool): the same in both runs of a pair
  for (let i = 0; i < prior; i++) {
    const earlier = await open();
    await run(earlier, warmup);
    await earlier.close();
  }
  const opened = await open();
  // One unbroken run of WARMUP + N queries: callers that stop and start again between a
  // warm-up and a measured phase change the pool's path at the boundary (idle connections
  // taken at once instead of through the queue), and V8 then deoptimizes and recompiles
  // inside the window of the N run only. No gc(): a full GC's cost depends on when it
  // runs; the harness's heap flags keep major GCs out of the whole run instead.
  await run(opened, warmup + n);
  await opened.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
