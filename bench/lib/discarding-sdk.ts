/**
 * The OpenTelemetry SDK as the telemetry benches measure it: a batch span
 * processor and a periodic metric reader whose exporters discard everything, so
 * the figures hold the SDK's recording cost and no export I/O.
 */
import {
  AggregationTemporality,
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';

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
