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
 * - `topology-cluster`: what routing costs: `pool.use` vs `cluster.use` (primary) vs
 *   `cluster.read` (a replica member pointing at the same server), `SELECT 1`.
 *
 * Interleaved repetitions, median ops/s (extra: p50Ms, p99Ms). Full: 3 x 5 s; --quick: 1 x 2 s.
 */
import { postgres } from '../src/drivers/postgres/index.js';
import { createCluster, createPool } from '../src/index.js';
import { pgClusterAvailable, startPgPrimary } from '../test/support/pg-cluster.js';
import { startPgBouncer } from '../test/support/pgbouncer.js';
import { PG_URL, reachable } from '../test/support/servers.js';
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
