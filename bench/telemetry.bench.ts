/**
 * What telemetry costs: `SELECT 1` through cistern + cistern/postgres, three ways,
 * in one process, interleaved (each repetition measures every subject once, in an
 * order rotated per repetition):
 *
 * - `telemetry off`: `telemetry: false` (no observer handed to the driver);
 * - `no SDK`: the default (global providers) with no OpenTelemetry SDK registered;
 * - `SDK`: a BasicTracerProvider with a BatchSpanProcessor and an exporter that
 *   discards, a MeterProvider with a periodic reader and a discarding exporter,
 *   and the AsyncLocalStorage context manager (enabled only while this subject
 *   runs, since it taxes every promise of the process).
 *
 * A fourth subject, `telemetry off + ALS context`, runs with only the context
 * manager enabled (and AsyncLocalStorage's promise hooks on, as after the first
 * `context.with` of any traced app): what an OpenTelemetry set-up costs the
 * process before cistern records anything.
 *
 * The figures: ops/s (median over repetitions), the ratio to `telemetry off`,
 * and client CPU per query (process.cpuUsage delta / queries), whose difference
 * to `telemetry off` is what telemetry costs the client. Targets: SDK >= 0.9x,
 * no SDK >= 0.98x, SDK overhead <= 3 µs CPU per query.
 *
 * Skipped when PostgreSQL (PG_URL, default postgres://postgres@127.0.0.1:5432/test)
 * is not reachable.
 */
import net from 'node:net';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { postgres } from '../src/drivers/postgres/index.js';
import { createPool, type Pool, type PoolOptions } from '../src/index.js';
import { median, round } from './lib/stats.js';
import type { BenchContext, BenchResult, BenchScenario } from './lib/types.js';

const PG_URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CALLERS = 16;
const POOL_SIZE = 8;

const discardSpans: SpanExporter = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: async () => {},
};

const discardMetrics: PushMetricExporter = {
  export: (_metrics, done) => done({ code: 0 }),
  forceFlush: async () => {},
  shutdown: async () => {},
  selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
};

interface Subject {
  name: string;
  pool: Pool<any>;
  /** Set up / tear down process-wide state around each measurement. */
  enter?(): void;
  exit?(): void;
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
  pool: Pool<any>,
  ms: number,
): Promise<{ queries: number; elapsedMs: number; cpuUs: number }> {
  let queries = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + ms;
  await Promise.all(
    Array.from({ length: CALLERS }, async () => {
      while (performance.now() < deadline) {
        await pool.use((c) => c.sql`select 1`);
        queries++;
      }
    }),
  );
  const elapsedMs = performance.now() - t0;
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

    const tracerProvider = new BasicTracerProvider({
      spanProcessors: [
        new BatchSpanProcessor(discardSpans, {
          maxQueueSize: 65536,
          maxExportBatchSize: 2048,
          scheduledDelayMillis: 200,
        }),
      ],
    });
    const meterProvider = new MeterProvider({
      readers: [new PeriodicExportingMetricReader({ exporter: discardMetrics, exportIntervalMillis: 1000 })],
    });
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
    const subjects: Subject[] = [
      { name: 'telemetry off', pool: makePool(false, 'bench-off'), opsPerSec: [], cpuUs: [] },
      {
        // what the SDK's context manager alone costs the process (no cistern telemetry at all)
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
        ...withContextManager,
        opsPerSec: [],
        cpuUs: [],
      },
    ];
    try {
      await Promise.all(subjects.map((s) => s.pool.ready()));
      for (const s of subjects) {
        ctx.progress(`warming up ${s.name}`);
        s.enter?.();
        await measure(s.pool, measureMs / 2);
        s.exit?.();
      }
      for (let rep = 0; rep < repetitions; rep++) {
        for (let k = 0; k < subjects.length; k++) {
          const s = subjects[(rep + k) % subjects.length];
          ctx.progress(`repetition ${rep + 1}/${repetitions}: ${s.name}`);
          s.enter?.();
          const r = await measure(s.pool, measureMs);
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
    return subjects.map((s) => {
      const ops = median(s.opsPerSec);
      const cpu = median(s.cpuUs);
      return {
        scenario: 'telemetry',
        subject: s.name,
        params: { callers: CALLERS, poolSize: POOL_SIZE, query: 'SELECT 1' },
        value: round(ops),
        unit: 'ops/s',
        extra: {
          ratio: round(ops / baseOps),
          cpuUsPerQuery: round(cpu),
          cpuOverheadUsPerQuery: round(cpu - baseCpu),
        },
      };
    });
  },
};

export default scenario;
