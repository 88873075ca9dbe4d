/**
 * Is the query inlined next to the pool? (issue 11) A check of the cause, not a timing:
 * V8 optimizes a function with a budget of bytecode it may inline (920 bytes, the most
 * frequent calls first). When cistern's own calls took that budget in the function that
 * also calls the caller's `fn`, postgres.js's `sql` and `Query` could not be inlined,
 * ran unoptimized, and their own optimizations aborted again and again ("Bailed out due
 * to dependency change"): ~15 % more CPU per query than on a bare free list.
 *
 * Runs a child process with `--no-concurrent-recompilation --trace-opt
 * --trace-turbo-inlining` (compilation on the main thread, so the trace is in order):
 * five pools one after another in the same process (size 10, 10 or 64 callers, `select 1`
 * through `pool.use((c) => c.sql...)` and through `acquire` + `release`), and reads the
 * trace: how often V8 gave up optimizing `Query` or `sql`, and which functions `Query`
 * was inlined into. Prints one line per mode; exits 1 when V8 gave up optimizing `Query`
 * or `sql` under `use`, when `use` at 64 callers never had `Query` inlined into `runLoan`
 * (src/pool/loans.ts, where cistern calls `fn` for a caller that waited), or when the
 * pool's slow `acquire` path (`#acquireSlow`) or its check-in (`#finish`) was inlined
 * into any caller (both are kept over V8's 460-byte limit so that they never are): the
 * structure that keeps the budget free was undone. Needs PostgreSQL (PG_URL).
 *
 * Then the same for the `mariadb` connector (MARIADB_URL), `use` at 10 and 64 callers
 * (`c.query('SELECT 1')`): which of the connector's per-query functions (`Query`, the
 * `once` of node:events it registers its end listener with, denque's `push` of its
 * command queue) were inlined into `runLoan`. Exits 1 when `Query` or `once` was not, at
 * 64 callers: until `runLoan` waited through `wait` (the waiting line, out of line, the
 * record handed over) instead of `acquire` with its fast path inlined and a lookup of the
 * record after it, the pool's calls took the budget `once` needed; it then ran out of
 * line with megamorphic loads (callgrind of `bench/mariadb-instructions.sh`, 2026-12-07,
 * 2-core AMD EPYC: that out-of-line `once` cost 1,684 instructions per query inclusive).
 *
 * At 10 callers `use` takes a connection at once and calls `fn` in `lend`, which is inlined
 * where `use` is (since 2026-12-08): there `Query` may be called rather than inlined
 * ("nowhere"), optimized on its own, as under a bare free list.
 *
 * Measured 2026-12-07 (2 cores), before the driver made postgres.js's `Query` class
 * optimizable (docs/postgres.md, "postgres.js's `Query` and V8"): Node 20.20 aborted
 * `Query` 27x per `use` mode and 8-33x with `acquire` + `release`; every one of those was
 * that class, which V8 could not optimize at all (Maglev's aborts on Node 24 were not
 * counted here then; they are now).
 *
 *   node --import tsx bench/use-inlining.ts [queries per pool = 8000]
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mariadb } from '../src/drivers/mariadb/index.js';
import { postgres } from '../src/drivers/postgres/index.js';
import { MARIADB_URL } from '../test/support/servers.js';
import { readyPool } from './lib/ready-pool.js';

const URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
type Mode = 'use' | 'acquire' | 'mariadb-use';

async function child(mode: Mode, callers: number, queries: number): Promise<void> {
  for (let i = 1; i <= 5; i++) {
    if (mode === 'mariadb-use') {
      // one MariaDB pool as the bench opens it
      const pool = await readyPool(mariadb(MARIADB_URL), 10);
      await drive(callers, queries, () => pool.use((c) => c.query('SELECT 1')));
      await pool.close();
      continue;
    }
    const pool = await readyPool(postgres(URL), 10);
    const one =
      mode === 'use'
        ? () => pool.use((c) => c.sql`select 1`)
        : async () => {
            const c = await pool.acquire();
            try {
              return await c.sql`select 1`;
            } finally {
              pool.release(c);
            }
          };
    await drive(callers, queries, one);
    await pool.close();
  }
}

/** `queries` calls of `one` from `callers` loops sharing the count. */
async function drive(callers: number, queries: number, one: () => Promise<unknown>): Promise<void> {
  let issued = 0;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (issued < queries) {
        issued++;
        await one();
      }
    }),
  );
}

/** The child's trace under `--no-concurrent-recompilation --trace-opt --trace-turbo-inlining`. */
function trace(mode: Mode, callers: number, queries: number): string {
  const run = spawnSync(
    process.execPath,
    [
      '--no-concurrent-recompilation',
      '--trace-opt',
      '--trace-turbo-inlining',
      '--import',
      'tsx',
      fileURLToPath(import.meta.url),
      'child',
      mode,
      String(callers),
      String(queries),
    ],
    { encoding: 'utf8', maxBuffer: 1 << 30, env: process.env },
  );
  if (run.status !== 0) {
    console.error(run.stderr.slice(-2000));
    throw new Error(`child ${mode} ${callers} exited ${run.status}`);
  }
  return run.stdout;
}

/** The connector's per-query functions that were inlined into runLoan (any of the 5 pools). */
function mariadbInlined(text: string): Set<string> {
  const into = new Set<string>();
  for (const m of text.matchAll(
    /Inlining [^\n]*<SharedFunctionInfo (Query|once|push)>[^\n]* into [^\n]*<SharedFunctionInfo runLoan>/g,
  )) {
    into.add(m[1]!);
  }
  return into;
}

function parent(queries: number): void {
  let failed = false;
  for (const mode of ['use', 'acquire'] as const) {
    for (const callers of [10, 64]) {
      const text = trace(mode, callers, queries);
      const aborts = (text.match(/aborted (optimizing|compiling) [^\n]*<JSFunction (Query|sql) /g) ?? [])
        .length;
      const into = new Map<string, number>();
      for (const m of text.matchAll(
        /Inlining [^\n]*<SharedFunctionInfo Query>[^\n]* into [^\n]*<SharedFunctionInfo ([^>]*)>/g,
      )) {
        const name = m[1] || '(anonymous)';
        into.set(name, (into.get(name) ?? 0) + 1);
      }
      const where = [...into].map(([name, n]) => `${name} ${n}x`).join(', ') || 'nowhere';
      // the pool's slow path and its check-in stay out of line: inlined, they would spend
      // the budget of the function that calls acquire/release (src/pool/pool.ts)
      const outOfLine = new Set<string>();
      for (const m of text.matchAll(
        /Inlining [^\n]*<SharedFunctionInfo (#acquireSlow|#finish)>[^\n]* into [^\n]*<SharedFunctionInfo ([^>]*)>/g,
      )) {
        outOfLine.add(`${m[1]} into ${m[2] || '(anonymous)'}`);
      }
      console.log(
        `${process.version} ${mode.padEnd(7)} ${String(callers).padStart(2)} callers, 5 pools x ${queries} queries: ` +
          `Query/sql optimizations aborted ${aborts}x; Query inlined into: ${where}` +
          (outOfLine.size > 0 ? `; INLINED: ${[...outOfLine].join(', ')}` : ''),
      );
      if (mode === 'use' && (aborts > 0 || (callers === 64 && !into.has('runLoan')))) failed = true;
      if (outOfLine.size > 0) failed = true;
    }
  }
  let mariadbFailed = false;
  for (const callers of [10, 64]) {
    const into = mariadbInlined(trace('mariadb-use', callers, queries));
    const missing = ['Query', 'once', 'push'].filter((name) => !into.has(name));
    console.log(
      `${process.version} mariadb use ${String(callers).padStart(2)} callers, 5 pools x ${queries} queries: ` +
        `inlined into runLoan: ${[...into].join(', ') || 'none'}` +
        (missing.length > 0 ? `; not: ${missing.join(', ')}` : ''),
    );
    if (callers === 64 && (!into.has('Query') || !into.has('once'))) mariadbFailed = true;
  }
  if (failed) {
    console.log(
      'FAIL: under pool.use V8 gave up optimizing Query or sql, or at 64 callers no longer inlines the query ' +
        "into runLoan, or the pool's #acquireSlow or #finish was inlined into a caller (see the header of bench/use-inlining.ts)",
    );
    process.exitCode = 1;
  }
  if (mariadbFailed) {
    console.log(
      "FAIL: at 64 callers pool.use no longer inlines the mariadb connector's Query and once into runLoan " +
        '(see the header of bench/use-inlining.ts)',
    );
    process.exitCode = 1;
  }
}

const [, , role, mode, callers, queries] = process.argv;
if (role === 'child') {
  child(mode as Mode, Number(callers), Number(queries)).then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
} else {
  parent(Number(process.argv[2] ?? 8000));
}
