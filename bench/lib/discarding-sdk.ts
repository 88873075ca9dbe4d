/**
 * The OpenTelemetry SDK as the telemetry benches measure it: a batch span
 * processor and a periodic metric reader whose exporters discard everything, so
 * the figures hold the SDK's recording cost and no export I/O.
 */
import type { Histogram, Meter } from '@opentelemetry/api';
import {
  AggregationTemporality,
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { DURATION_BUCKETS_SECONDS, POOL_TIME_BUCKETS_SECONDS } from '../../src/telemetry/semconv.js';

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

/**
 * The timers drive work whose amount per query depends on how fast queries run: a
 * metric collection walks every instrument once per interval. Under callgrind a
 * query runs some 50 times slower, so the same interval charges each query 50 times
 * its share; `bench/telemetry-instructions.ts` therefore sets both to an hour (and
 * flushes the spans itself).
 */
export function discardingProviders(
  timers: { scheduledDelayMillis?: number; exportIntervalMillis?: number } = {},
): { tracerProvider: BasicTracerProvider; meterProvider: MeterProvider } {
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [
      new BatchSpanProcessor(discardSpans, {
        maxQueueSize: 65536,
        maxExportBatchSize: 2048,
        scheduledDelayMillis: timers.scheduledDelayMillis ?? 200,
      }),
    ],
  });
  const meterProvider = new MeterProvider({
    readers: [
      new PeriodicExportingMetricReader({
        exporter: discardMetrics,
        exportIntervalMillis: timers.exportIntervalMillis ?? 1000,
        exportTimeoutMillis: Math.min(30_000, timers.exportIntervalMillis ?? 1000),
      }),
    ],
  });
  return { tracerProvider, meterProvider };
}

/**
 * The hand-made floor's histograms: the names, units and bucket boundaries
 * cistern's own instruments use (src/telemetry/instruments.ts), so the SDK does
 * the same work per value for the floor as for cistern.
 */
export function floorHistograms(meter: Meter): {
  operationDuration: Histogram;
  waitTime: Histogram;
  useTime: Histogram;
} {
  const seconds = (name: string, buckets: number[]) =>
    meter.createHistogram(name, { unit: 's', advice: { explicitBucketBoundaries: buckets } });
  return {
    operationDuration: seconds('db.client.operation.duration', DURATION_BUCKETS_SECONDS),
    waitTime: seconds('db.client.connection.wait_time', POOL_TIME_BUCKETS_SECONDS),
    useTime: seconds('db.client.connection.use_time', POOL_TIME_BUCKETS_SECONDS),
  };
}
