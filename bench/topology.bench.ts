/**
 * Production topologies, three questions (10 callers on 10 connections, closed loop):
 *
 * - `topology-prepare`: what `prepare: false` costs. A parameterized catalog lookup
 *   (`pg_class` joined to `pg_namespace` by oid) through cistern+postgres.js, with named
 *   prepared statements (the default) and without (`prepare: false`, what PgBouncer in
 *   transaction mode needs: every query is parsed and planned again), on the shared
 *   server; and `prepare: false` through a real PgBouncer in transaction mode
 *   (test/support/pgbouncer.ts, when installed) — the fleet set-up of the README.
 * - `topology-tls`: the same `SELECT 1` on two temporary servers from the topology
 *   harness (test/support/pg-cluster.ts), identical but for TLS: plain text vs TLS-only.
 *   The difference is TLS's cost per query and per check-in.
 * - `topology-tls-checkin`: what one checkout costs, plain vs TLS, for postgres.js and
 *   for pg: one caller on one connection runs `pool.use(c => c.sql\`select 1\`)` (pg:
 *   `c.query('select 1')`) back to back on the same two servers; µs per checkout, and
 *   round trips per checkout counted by a TCP proxy (1.0: the check-in sent nothing; 2.0:
 *   a `ROLLBACK` per check-in). A control row leaves `begin` open in every checkout, so
 *   its check-in must roll back: it reads 2.0 when the counter sees check-in traffic.
 * - `topology-cluster`: what routing costs: `pool.use` vs `cluster.use` (primary) vs
 *   `cluster.read` (a replica member pointing at the same server), `SELECT 1`.
 *
 * Interleaved repetitions, median ops/s (extra: p50Ms, p99Ms). Full: 3 x 5 s; --quick: 1 x 2 s.
 */
import { pg } from '../src/drivers/pg/index.js';
import { postgres } from '../src/drivers/postgres/index.js';
import { createCluster, createPool } from '../src/index.js';
import { pgClusterAvailable, startPgPrimary } from '../test/support/pg-cluster.js';
import { startPgBouncer } from '../test/support/pgbouncer.js';
import { PG_URL, reachable } from '../test/support/servers.js';
import { startTcpProxy } from '../test/support/tcp-proxy.js';
import { closedLoop, type LoadSample } from './lib/closed-loop.js';
import { getGc } from './lib/gc.js';
import { median, round } from './lib/stats.js';
import type { BenchContext, BenchResult, BenchScenario } from './lib/types.js';

const CONNECTIONS = 10;
const CALLERS = 10;
const LOOKUP =
  'select c.relname, c.relkind, n.nspname from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.oid = $1';
const OIDS = [1259, 1247, 1249, 1255, 2615];

interface Opened {
  op(i: number): Promise<unknown>;
  close(): Promise<void>;
}
interface Subject {
  name: string;
  open(): Promise<Opened | undefined>;
}

function pooled(url: string, prepare: boolean, query: 'lookup' | 'select1'): () => Promise<Opened> {
  return async () => {
    const pool = createPool(postgres(url, { prepare }), {
      size: CONNECTIONS,
      maxOverflow: 0,
      minIdle: CONNECTIONS,
      telemetry: false,
    });
    await pool.ready();
    return {
      op: (i) =>
        pool.use((c) =>
          query === 'lookup' ? c.query(LOOKUP, [OIDS[i % OIDS.length]]) : c.query('select 1'),
        ),
      close: () => pool.close(),
    };
  };
}

async function measureGroup(
  ctx: BenchContext,
  scenario: string,
  subjects: Subject[],
  params: Record<string, string | number>,
): Promise<BenchResult[]> {
  const repetitions = ctx.quick ? 1 : 3;
  const durationMs = ctx.quick ? 2000 : 5000;
  const warmMs = ctx.quick ? 300 : 1000;
  const gc = getGc();
  const opened: { name: string; o: Opened; samples: LoadSample[] }[] = [];
  try {
    for (const s of subjects) {
      ctx.progress(`${scenario}: opening ${s.name}`);
      const o = await s.open();
      if (o === undefined) continue;
      opened.push({ name: s.name, o, samples: [] });
      await closedLoop(CALLERS, warmMs, (i) => o.op(i), s.name);
    }
    for (let rep = 0; rep < repetitions; rep++) {
      for (let i = 0; i < opened.length; i++) {
        const x = opened[(i + rep) % opened.length]!;
        gc();
        ctx.progress(`${scenario}: ${x.name} (repetition ${rep + 1}/${repetitions})`);
        x.samples.push(await closedLoop(CALLERS, durationMs, (k) => x.o.op(k), x.name));
      }
    }
  } finally {
    for (const x of opened) await x.o.close();
  }
  return opened.map((x) => ({
    scenario,
    subject: x.name,
    params: { callers: CALLERS, connections: CONNECTIONS, ...params },
    value: round(median(x.samples.map((s) => s.opsPerSec))),
    unit: 'ops/s',
    extra: {
      p50Ms: round(median(x.samples.map((s) => s.p50Ms))),
      p99Ms: round(median(x.samples.map((s) => s.p99Ms))),
    },
  }));
}

/** Round trips per checkout are counted through this many sequential checkouts (after a warm-up). */
const COUNTED_CHECKOUTS = 1000;

interface CheckinSubject {
  name: string;
  /** The server's URL; `open(url)` makes the subject's pool on it (or on the counting proxy's URL). */
  url: string;
  port: number;
  open(url: string): Promise<Opened>;
}

/**
 * Round trips per checkout, counted by a TCP proxy in front of the server: every time the
 * client writes after the server has answered, a new round trip starts (TLS included: the
 * proxy sees only the direction of the bytes, which is all this needs). The proxy's per-chunk
 * hook is its cut trigger, which never fires here (it returns false).
 */
async function roundTripsPerCheckout(s: CheckinSubject): Promise<number> {
  const proxy = await startTcpProxy({ targetPort: s.port });
  let trips = 0;
  let last: 'up' | 'down' | undefined;
  proxy.cutWhen((dir) => {
    if (dir === 'up' && last !== 'up') trips++;
    last = dir;
    return false;
  });
  const o = await s.open(proxy.url(s.url));
  try {
    for (let i = 0; i < 50; i++) await o.op(i);
    trips = 0;
    for (let i = 0; i < COUNTED_CHECKOUTS; i++) await o.op(i);
    return trips / COUNTED_CHECKOUTS;
  } finally {
    await o.close();
    await proxy.close();
  }
}

/** One caller, one connection: µs per checkout (direct) and round trips per checkout (through the proxy). */
async function measureCheckin(ctx: BenchContext, subjects: CheckinSubject[]): Promise<BenchResult[]> {
  const repetitions = ctx.quick ? 1 : 3;
  const durationMs = ctx.quick ? 2000 : 5000;
  const warmMs = ctx.quick ? 300 : 1000;
  const gc = getGc();
  const opened: { s: CheckinSubject; o: Opened; us: number[]; p99: number[]; trips: number }[] = [];
  try {
    for (const s of subjects) {
      ctx.progress(`topology-tls-checkin: counting round trips of ${s.name}`);
      const trips = await roundTripsPerCheckout(s);
      const o = await s.open(s.url);
      opened.push({ s, o, us: [], p99: [], trips });
      await closedLoop(1, warmMs, (i) => o.op(i), s.name);
    }
    for (let rep = 0; rep < repetitions; rep++) {
      for (let i = 0; i < opened.length; i++) {
        const x = opened[(i + rep) % opened.length]!;
        gc();
        ctx.progress(`topology-tls-checkin: ${x.s.name} (repetition ${rep + 1}/${repetitions})`);
        const sample = await closedLoop(1, durationMs, (k) => x.o.op(k), x.s.name);
        x.us.push(1e6 / sample.opsPerSec);
        x.p99.push(sample.p99Ms);
      }
    }
  } finally {
    for (const x of opened) await x.o.close();
  }
  return opened.map((x) => ({
    scenario: 'topology-tls-checkin',
    subject: x.s.name,
    params: { callers: 1, connections: 1 },
    value: round(median(x.us)),
    unit: 'µs/checkout',
    extra: { roundTripsPerCheckout: Math.round(x.trips * 1000) / 1000, p99Ms: round(median(x.p99)) },
  }));
}

/**
 * `control` leaves a transaction open in every checkout (`begin` only), so the check-in must
 * send a ROLLBACK: 2 statements per checkout, which shows the counter sees check-in traffic.
 */
function checkinPool(driver: 'postgres.js' | 'pg', control = false): (url: string) => Promise<Opened> {
  return async (url) => {
    const options = { size: 1, maxOverflow: 0, minIdle: 1, telemetry: false as const };
    if (driver === 'pg') {
      const pool = createPool(pg(url), options);
      await pool.ready();
      return { op: () => pool.use((c) => c.query('select 1')), close: () => pool.close() };
    }
    const pool = createPool(postgres(url), options);
    await pool.ready();
    if (control) return { op: () => pool.use((c) => c.sql`begin`), close: () => pool.close() };
    return { op: () => pool.use((c) => c.sql`select 1`), close: () => pool.close() };
  };
}

const scenario: BenchScenario = {
  name: 'topology',
  async skip() {
    return (await reachable(PG_URL)) ? undefined : `PostgreSQL not reachable at ${new URL(PG_URL).host}`;
  },
  async run(ctx) {
    const results: BenchResult[] = [];

    // 1. prepare: false
    const bouncer = await startPgBouncer({ poolMode: 'transaction', serverPoolSize: CONNECTIONS });
    try {
      results.push(
        ...(await measureGroup(
          ctx,
          'topology-prepare',
          [
            { name: 'direct, prepare: true', open: pooled(PG_URL, true, 'lookup') },
            { name: 'direct, prepare: false', open: pooled(PG_URL, false, 'lookup') },
            {
              name: 'PgBouncer (transaction), prepare: false',
              open: async () => (bouncer ? pooled(bouncer.url, false, 'lookup')() : undefined),
            },
          ],
          { query: 'pg_class join pg_namespace by oid ($1)' },
        )),
      );
    } finally {
      await bouncer?.stop();
    }

    // 2. TLS vs plain, on two identical temporary servers
    if (await pgClusterAvailable()) {
      const plain = await startPgPrimary({ tls: false, name: 'bench-plain' });
      const tls = await startPgPrimary({ tls: true, name: 'bench-tls' });
      try {
        results.push(
          ...(await measureGroup(
            ctx,
            'topology-tls',
            [
              { name: 'plain text', open: pooled(plain.url(), true, 'select1') },
              {
                name: 'TLS (sslmode=require)',
                open: pooled(tls.url({ sslmode: 'require' }), true, 'select1'),
              },
            ],
            { query: 'select 1', server: 'temporary PostgreSQL 15 (fsync off)' },
          )),
        );
        const tlsUrl = tls.url({ sslmode: 'require' });
        const onPlain = { url: plain.url(), port: plain.port };
        const onTls = { url: tlsUrl, port: tls.port };
        results.push(
          ...(await measureCheckin(ctx, [
            { name: 'postgres.js, plain text', ...onPlain, open: checkinPool('postgres.js') },
            { name: 'postgres.js, TLS (sslmode=require)', ...onTls, open: checkinPool('postgres.js') },
            { name: 'pg, plain text', ...onPlain, open: checkinPool('pg') },
            { name: 'pg, TLS (sslmode=require)', ...onTls, open: checkinPool('pg') },
            {
              name: 'control: postgres.js, TLS, `begin` left open',
              ...onTls,
              open: checkinPool('postgres.js', true),
            },
          ])),
        );
      } finally {
        await tls.destroy();
        await plain.destroy();
      }
    }

    // 3. routing cost
    results.push(
      ...(await measureGroup(
        ctx,
        'topology-cluster',
        [
          { name: 'pool.use', open: pooled(PG_URL, true, 'select1') },
          {
            name: 'cluster.use (primary)',
            open: async () => {
              const cluster = createCluster({
                primary: postgres(PG_URL),
                size: CONNECTIONS,
                maxOverflow: 0,
                minIdle: CONNECTIONS,
                telemetry: false,
              });
              await cluster.primary?.ready();
              return { op: () => cluster.use((c) => c.query('select 1')), close: () => cluster.close() };
            },
          },
          {
            name: 'cluster.read (replica)',
            open: async () => {
              const cluster = createCluster({
                primary: postgres(PG_URL),
                replicas: [postgres(PG_URL)],
                size: CONNECTIONS,
                maxOverflow: 0,
                telemetry: false,
              });
              await cluster.members()[1]!.pool.ready();
              return { op: () => cluster.read((c) => c.query('select 1')), close: () => cluster.close() };
            },
          },
        ],
        { query: 'select 1' },
      )),
    );
    return results;
  },
};

export default scenario;
