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

export function discardingProviders(): { tracerProvider: BasicTracerProvider; meterProvider: MeterProvider } {
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
