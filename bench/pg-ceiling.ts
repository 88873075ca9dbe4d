/**
 * cistern+postgres.js against its ceiling (issue 11.3): a bare free list over N
 * postgres.js `max: 1` instances in the same process (free), the same free list over
 * cistern driver connections (drv: socket gate + status parser, no pool), `acquire` +
 * `c.raw` + `release` (acq), `pool.use((c) => c.sql...)` (use), the same with the global
 * OpenTelemetry providers (otel; a no-op unless an SDK is registered). SUBJECTS=free,use picks.
 * Subjects are interleaved (a, b, a, b, ...) and reported as ratios of the free list,
 * because the machine may be loaded. Indicative only.
 *
 *   node --import tsx bench/pg-ceiling.ts [seconds=3] [rounds=3] [callers=64]
 */
import postgresjs from 'postgres';
import { postgres } from '../src/drivers/postgres/index.js';
import { postgresMajor } from '../src/drivers/postgres/postgres-js.js';
import { createPool } from '../src/index.js';

const URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const seconds = Number(process.argv[2] ?? 3);
const rounds = Number(process.argv[3] ?? 3);
const callers = Number(process.argv[4] ?? 64);
const SIZE = 10;

async function load(run: () => Promise<unknown>): Promise<{ qps: number; cpuUs: number }> {
  let n = 0;
  const end = Date.now() + seconds * 1000;
  const c0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (Date.now() < end) {
        await run();
        n++;
      }
    }),
  );
  const c = process.cpuUsage(c0);
  return { qps: n / seconds, cpuUs: (c.user + c.system) / n };
}

async function freeList(): Promise<{ qps: number; cpuUs: number }> {
  const all = Array.from({ length: SIZE }, () => postgresjs(URL, { max: 1, onnotice: () => {} }));
  await Promise.all(all.map((s) => s`select 1`));
  const free = [...all];
  const waiters: Array<(s: (typeof all)[number]) => void> = [];
  const get = () =>
    free.length > 0
      ? Promise.resolve(free.pop()!)
      : new Promise<(typeof all)[number]>((r) => waiters.push(r));
  const put = (s: (typeof all)[number]) => {
    const w = waiters.shift();
    if (w) w(s);
    else free.push(s);
  };
  const r = await load(async () => {
    const s = await get();
    try {
      return await s`select 1`;
    } finally {
      put(s);
    }
  });
  await Promise.all(all.map((s) => s.end()));
  return r;
}

/** The same free list over cistern driver connections (socket gate, status parser), no pool core. */
async function driverFreeList(): Promise<{ qps: number; cpuUs: number }> {
  const driver = postgres(URL);
  let id = 0;
  const all = await Promise.all(
    Array.from({ length: SIZE }, () =>
      driver.connect({
        connectionId: ++id,
        timeoutMs: 10_000,
        signal: new AbortController().signal,
        observer: undefined,
        onDead: () => {},
      }),
    ),
  );
  type C = (typeof all)[number];
  const free = [...all];
  const waiters: Array<(c: C) => void> = [];
  const get = () => (free.length > 0 ? Promise.resolve(free.pop()!) : new Promise<C>((r) => waiters.push(r)));
  const put = (c: C) => {
    driver.reset?.(c);
    const w = waiters.shift();
    if (w) w(c);
    else free.push(c);
  };
  const r = await load(async () => {
    const c = await get();
    try {
      return await c.sql`select 1`;
    } finally {
      put(c);
    }
  });
  await Promise.all(all.map((c) => driver.close(c)));
  return r;
}

async function acquireRaw(): Promise<{ qps: number; cpuUs: number }> {
  const pool = createPool(postgres(URL), { size: SIZE, maxOverflow: 0, telemetry: false });
  await pool.use((c) => c.sql`select 1`);
  const r = await load(async () => {
    const c = await pool.acquire();
    try {
      return await c.raw`select 1`;
    } finally {
      pool.release(c);
    }
  });
  await pool.close();
  return r;
}

async function cistern(telemetry: boolean): Promise<{ qps: number; cpuUs: number }> {
  const pool = createPool(postgres(URL), {
    size: SIZE,
    maxOverflow: 0,
    ...(telemetry ? {} : { telemetry: false }),
  });
  await pool.use((c) => c.sql`select 1`);
  const r = await load(() => pool.use((c) => c.sql`select 1`));
  await pool.close();
  return r;
}

const subjects: Record<string, () => Promise<{ qps: number; cpuUs: number }>> = {
  free: freeList,
  drv: driverFreeList,
  acq: acquireRaw,
  use: () => cistern(false),
  otel: () => cistern(true),
};
const only = (process.env.SUBJECTS ?? 'free,drv,acq,use').split(',');
const results: Record<string, Array<{ qps: number; cpuUs: number }>> = {};
for (let i = 0; i < rounds; i++) {
  for (const name of only) (results[name] ??= []).push(await subjects[name]!());
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const f = median((results.free ?? Object.values(results)[0]!).map((r) => r.qps));
for (const [name, rs] of Object.entries(results)) {
  const q = median(rs.map((r) => r.qps));
  console.log(
    `${name.padEnd(5)} ${Math.round(q).toLocaleString('en')} q/s  ${median(rs.map((r) => r.cpuUs)).toFixed(1)} µs CPU/query  ratio ${(q / f).toFixed(3)}  runs ${rs.map((r) => Math.round(r.qps)).join(' ')}`,
  );
}
const major = postgresMajor(postgresjs({ max: 1 }) as never);
console.log(
  `node ${process.version}, postgres.js ${major}.x, ${callers} callers, ${SIZE} connections, ${seconds}s x ${rounds} interleaved; machine shared with other helpers (loaded)`,
);
