/**
 * postgres.js's `Query` and V8 (docs/postgres.md, "postgres.js's `Query` and V8"):
 * how often V8 throws away its optimizations of `Query`, with and without a full GC
 * while idle (the cistern driver makes the class optimizable; the free list and
 * postgres.js's own pool show the unfixed class). Each subject runs in a fresh child
 * process (`--trace-opt`), 10 callers of `SELECT 1` on 10 connections, warms up for 1 s,
 * then either goes on at once or first lets every caller finish and runs a full GC
 * (idle), and measures. Prints, per subject and mode, how many times V8 aborted
 * optimizing `Query` while measuring (TurboFan on Node 20, Maglev or TurboFan on Node 24)
 * and the CPU per query. Indicative, on the real PostgreSQL (PG_URL); not part of
 * `npm run bench`.
 *
 *   node --import tsx bench/pg-idle-gc.ts [seconds=3]       (NODE=/path/to/node for another Node)
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import postgresjs from 'postgres';
import { postgres } from '../src/drivers/postgres/index.js';
import { PG_URL as URL } from '../test/support/servers.js';
import { closedLoop } from './lib/closed-loop.js';
import { freeListUse } from './lib/free-list.js';
import { getGc } from './lib/gc.js';
import { readyPool } from './lib/ready-pool.js';

const CALLERS = 10;
const SUBJECTS = ['free list', 'cistern use', 'postgres.js pool'] as const;
type Subject = (typeof SUBJECTS)[number];
const MARK = 'MEASURING';

type Tagged = (strings: TemplateStringsArray) => PromiseLike<unknown>;

async function open(
  subject: Subject,
): Promise<{ query: () => PromiseLike<unknown>; close: () => Promise<unknown> }> {
  if (subject === 'free list') {
    const all = Array.from({ length: 10 }, () => postgresjs(URL, { max: 1, onnotice: () => {} }));
    await Promise.all(all.map((sql) => sql`select 1`));
    const use = freeListUse(all);
    return {
      query: () => use((sql) => (sql as unknown as Tagged)`select 1`),
      close: () => Promise.all(all.map((s) => s.end())),
    };
  }
  if (subject === 'postgres.js pool') {
    const sql = postgresjs(URL, { max: 10, onnotice: () => {} });
    await Promise.all(Array.from({ length: 10 }, () => sql`select pg_sleep(0.01)`));
    return { query: () => sql`select 1`, close: () => sql.end() };
  }
  const pool = await readyPool(postgres(URL), 10);
  return { query: () => pool.use((c) => (c.sql as unknown as Tagged)`select 1`), close: () => pool.close() };
}

async function child(subject: Subject, idleGc: boolean, seconds: number): Promise<void> {
  const opened = await open(subject);
  await closedLoop(CALLERS, 1000, opened.query, subject);
  // every caller has finished: nothing is in flight
  if (idleGc) getGc()();
  console.log(MARK);
  const { opsPerSec, cpuUsPerOp } = await closedLoop(CALLERS, seconds * 1000, opened.query, subject);
  console.log(JSON.stringify({ n: opsPerSec * seconds, cpuUs: cpuUsPerOp }));
  await opened.close();
}

function parent(seconds: number): void {
  const node = process.env.NODE ?? process.execPath;
  const self = fileURLToPath(import.meta.url);
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  console.log(
    `node ${version}, ${CALLERS} callers, SELECT 1, 10 connections, ${seconds} s measured after 1 s of warm-up`,
  );
  for (const idle of [false, true]) {
    for (const subject of SUBJECTS) {
      const out = execFileSync(
        node,
        [
          '--expose-gc',
          '--trace-opt',
          '--import',
          'tsx',
          self,
          'child',
          subject,
          idle ? '1' : '0',
          String(seconds),
        ],
        { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
      );
      const measured = out.slice(out.indexOf(MARK));
      const aborts = measured
        .split('\n')
        .filter((l) => /aborted (optimizing|compiling) .*<JSFunction Query /.test(l)).length;
      const result = JSON.parse(measured.split('\n').find((l) => l.startsWith('{"n"'))!) as {
        n: number;
        cpuUs: number;
      };
      console.log(
        `${(idle ? 'after an idle full GC' : 'no GC').padEnd(22)} ${subject.padEnd(17)} Query aborts ${String(aborts).padStart(3)}  ${result.cpuUs.toFixed(1)} µs CPU/query  ${Math.round(result.n / seconds).toLocaleString('en')} q/s`,
      );
    }
  }
}

const [mode, subject, idle, secs] = process.argv.slice(2);
if (mode === 'child') {
  child(subject as Subject, idle === '1', Number(secs)).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
} else {
  parent(Number(process.argv[2] ?? 3));
}
