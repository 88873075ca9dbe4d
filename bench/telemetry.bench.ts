/**
 * What telemetry costs: `SELECT 1` through cistern + cistern/postgres, in one
 * process, interleaved (each repetition measures every subject once, in an order
 * rotated per repetition):
 *
 * - `telemetry off`: `telemetry: false` (no observer handed to the driver);
 * - `no SDK`: the default (global providers) with no OpenTelemetry SDK registered;
 * - `SDK`: a BasicTracerProvider with a BatchSpanProcessor and an exporter that
 *   discards, a MeterProvider with a periodic reader and a discarding exporter,
 *   and the AsyncLocalStorage context manager (enabled only while this subject
 *   runs, since it taxes every promise of the process). Spans still queued when
 *   its measurement ends are flushed inside that measurement, so their export is
 *   charged to it and not to the subject measured next.
 *
 * Two more subjects separate what cistern costs from what the environment costs:
 *
 * - `telemetry off + ALS context`: only the context manager enabled (and
 *   AsyncLocalStorage's promise hooks on, as after the first `context.with` of any
 *   traced app): what an OpenTelemetry set-up costs the process before anyone
 *   records anything. The SDK subject runs in the same environment, so its
 *   `vsAls*` figures are what cistern's telemetry costs on top of it.
 * - `SDK floor (hand-made span + metrics)`: `telemetry: false`, the same context
 *   manager and providers, and the bench loop itself records, per query, exactly
 *   what cistern records (one CLIENT span with the same attributes, one
 *   `db.client.operation.duration` with the same attributes, one wait-time and one
 *   use-time histogram value) with the plainest API calls: what the SDK itself
 *   costs for that data. SDK minus this floor is cistern's own share.
 *
 * The figures: ops/s (median over repetitions), the ratio to `telemetry off`,
 * and client CPU per query (process.cpuUsage delta / queries), whose difference
 * to `telemetry off` is what telemetry costs the client; for the subjects that run
 * with the context manager, the same against `telemetry off + ALS context`.
 * Targets: SDK >= 0.9x, no SDK >= 0.98x, SDK overhead <= 3 µs CPU per query.
 *
 * Skipped when PostgreSQL (PG_URL, default postgres://postgres@127.0.0.1:5432/test)
 * is not reachable.
 */
import net from 'node:net';
import { type Attributes, context, SpanKind } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import type { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { postgres } from '../src/drivers/postgres/index.js';
import { createPool, type Pool, type PoolOptions } from '../src/index.js';
import { describeQuery } from '../src/telemetry/attributes.js';
import { discardingProviders, floorHistograms } from './lib/discarding-sdk.js';
import { median, round } from './lib/stats.js';
import type { BenchContext, BenchResult, BenchScenario } from './lib/types.js';

const PG_URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CALLERS = 16;
const POOL_SIZE = 8;

/** One query as the bench loop runs it (cistern's telemetry, if any, happens inside). */
type RunQuery = (pool: Pool<any>) => Promise<unknown>;

const select1: RunQuery = (pool) => pool.use((c) => c.sql`select 1`);

interface Subject {
  name: string;
  pool: Pool<any>;
  /** How one query runs; `select1` unless the subject records telemetry by hand. */
  query?: RunQuery;
  /** Runs in the subject with the context manager enabled: compare it to `telemetry off + ALS context` too. */
  als?: boolean;
  /** Set up / tear down process-wide state around each measurement. */
  enter?(): void;
  exit?(): void;
  /** Awaited inside the measurement, after the last query: finish work the subject left queued. */
  settle?(): Promise<void>;
  opsPerSec: number[];
  cpuUs: number[];
}

function reachable(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: u.hostname || '127.0.0.1', port: Number(u.port) || 5432 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1500, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Run CALLERS loops of `SELECT 1` for `ms`; return queries done and client CPU µs used. */
async function measure(
  s: Subject,
  ms: number,
): Promise<{ queries: number; elapsedMs: number; cpuUs: number }> {
  const pool = s.pool;
  const query = s.query ?? select1;
  let queries = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + ms;
  await Promise.all(
    Array.from({ length: CALLERS }, async () => {
      while (performance.now() < deadline) {
        await query(pool);
        queries++;
      }
    }),
  );
  const elapsedMs = performance.now() - t0;
  await s.settle?.();
  const cpu = process.cpuUsage(cpu0);
  return { queries, elapsedMs, cpuUs: cpu.user + cpu.system };
}

function makePool(telemetry: PoolOptions['telemetry'], name: string): Pool<any> {
  return createPool(postgres(PG_URL), {
    name,
    size: POOL_SIZE,
    maxOverflow: 0,
    minIdle: POOL_SIZE,
    telemetry,
  });
}

/**
 * Per query, by hand, what cistern records for `SELECT 1` on the SDK subject: a CLIENT
 * span with the attributes cistern would set (from cistern's own attribute builder,
 * so the SDK copies and hashes the same data), `db.client.operation.duration` with
 * the span's duration and cistern's metric attributes, and one value each of
 * `db.client.connection.wait_time` and `use_time` (as cistern does per checkout).
 */
function handMadeTelemetry(
  tracerProvider: BasicTracerProvider,
  meterProvider: MeterProvider,
  poolName: string,
): RunQuery {
  const tracer = tracerProvider.getTracer('bench-floor');
  const meter = meterProvider.getMeter('bench-floor');
  const { operationDuration, waitTime, useTime } = floorHistograms(meter);
  const u = new URL(PG_URL);
  const description = describeQuery(
    { text: 'select 1' },
    {
      system: 'postgresql',
      host: u.hostname,
      port: Number(u.port) || 5432,
      database: u.pathname.slice(1),
    },
    poolName,
    true,
  );
  const poolAttributes: Attributes = { 'db.client.connection.pool.name': poolName };
  const spanOptions = { kind: SpanKind.CLIENT, attributes: description.spanAttributes };
  return (pool) => {
    const asked = performance.now();
    return pool.use((c) => {
      const acquired = performance.now();
      waitTime.record((acquired - asked) / 1000, poolAttributes);
      const span = tracer.startSpan(description.spanName, spanOptions, context.active());
      // end when postgres.js settles the query (no extra promise in between, as cistern does it)
      const query = c.sql`select 1` as unknown as { resolve(value: unknown): void };
      const resolve = query.resolve;
      query.resolve = (rows: unknown) => {
        span.end();
        const d = (span as unknown as { duration: [number, number] }).duration;
        operationDuration.record(d[0] + d[1] / 1e9, description.metricAttributes);
        useTime.record((performance.now() - acquired) / 1000, poolAttributes);
        resolve.call(query, rows); // a method in postgres.js 4, a closure in 3
      };
      return query;
    });
  };
}

const scenario: BenchScenario = {
  name: 'telemetry',
  async skip() {
    return (await reachable(PG_URL))
      ? undefined
      : `PostgreSQL not reachable at ${new URL(PG_URL).host} (set PG_URL)`;
  },
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const repetitions = ctx.quick ? 3 : 7;
    const measureMs = ctx.quick ? 300 : 1000;

    const { tracerProvider, meterProvider } = discardingProviders();
    let manager: AsyncLocalStorageContextManager | undefined;

    const withContextManager = {
      enter() {
        manager = new AsyncLocalStorageContextManager().enable();
        context.setGlobalContextManager(manager);
        // the first context.with turns AsyncLocalStorage's promise hooks on, as in any traced app
        context.with(context.active(), () => {});
      },
      exit() {
        context.disable();
        manager?.disable();
      },
    };
    const flushSpans = () => tracerProvider.forceFlush();
    const subjects: Subject[] = [
      { name: 'telemetry off', pool: makePool(false, 'bench-off'), opsPerSec: [], cpuUs: [] },
      {
        // what the SDK's context manager alone costs the process (no telemetry at all)
        name: 'telemetry off + ALS context',
        pool: makePool(false, 'bench-off-als'),
        ...withContextManager,
        opsPerSec: [],
        cpuUs: [],
      },
      { name: 'no SDK', pool: makePool(undefined, 'bench-nosdk'), opsPerSec: [], cpuUs: [] },
      {
        name: 'SDK (batch spans + metrics)',
        pool: makePool({ tracerProvider, meterProvider }, 'bench-sdk'),
        als: true,
        ...withContextManager,
        settle: flushSpans,
        opsPerSec: [],
        cpuUs: [],
      },
      {
        // the same span and metric values recorded by hand: what the SDK costs for that data
        name: 'SDK floor (hand-made span + metrics)',
        pool: makePool(false, 'bench-floor'),
        query: handMadeTelemetry(tracerProvider, meterProvider, 'bench-floor'),
        als: true,
        ...withContextManager,
        settle: flushSpans,
        opsPerSec: [],
        cpuUs: [],
      },
    ];
    try {
      await Promise.all(subjects.map((s) => s.pool.ready()));
      for (const s of subjects) {
        ctx.progress(`warming up ${s.name}`);
        s.enter?.();
        await measure(s, measureMs / 2);
        s.exit?.();
      }
      for (let rep = 0; rep < repetitions; rep++) {
        for (let k = 0; k < subjects.length; k++) {
          const s = subjects[(rep + k) % subjects.length];
          ctx.progress(`repetition ${rep + 1}/${repetitions}: ${s.name}`);
          s.enter?.();
          const r = await measure(s, measureMs);
          s.exit?.();
          s.opsPerSec.push((r.queries * 1000) / r.elapsedMs);
          s.cpuUs.push(r.cpuUs / r.queries);
        }
      }
    } finally {
      await Promise.all(subjects.map((s) => s.pool.close()));
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    }

    const baseOps = median(subjects[0].opsPerSec);
    const baseCpu = median(subjects[0].cpuUs);
    const alsOps = median(subjects[1].opsPerSec);
    const alsCpu = median(subjects[1].cpuUs);
    return subjects.map((s) => {
      const ops = median(s.opsPerSec);
      const cpu = median(s.cpuUs);
      const extra: Record<string, number> = {
        ratio: round(ops / baseOps),
        cpuUsPerQuery: round(cpu),
        cpuOverheadUsPerQuery: round(cpu - baseCpu),
      };
      if (s.als) {
        // the same environment (context manager on) without any telemetry
        extra.ratioVsAls = round(ops / alsOps);
        extra.cpuOverheadVsAlsUsPerQuery = round(cpu - alsCpu);
      }
      return {
        scenario: 'telemetry',
        subject: s.name,
        params: { callers: CALLERS, poolSize: POOL_SIZE, query: 'SELECT 1' },
        value: round(ops),
        unit: 'ops/s',
        extra,
      };
    });
  },
};

export default scenario;
