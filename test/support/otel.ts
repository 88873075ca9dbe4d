/**
 * In-memory OpenTelemetry SDK set-ups for the telemetry tests: spans through a
 * SimpleSpanProcessor into an InMemorySpanExporter, metrics through a manual
 * MetricReader, context through AsyncLocalStorage.
 */
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  type DataPoint,
  MeterProvider,
  type MetricData,
  MetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

export function useAsyncContext(): () => void {
  const manager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(manager);
  return () => {
    context.disable();
    manager.disable();
  };
}

export function createTracing() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return {
    exporter,
    provider,
    tracer: provider.getTracer('test'),
    spans: (): ReadableSpan[] => exporter.getFinishedSpans(),
  };
}

/** A pull reader: `collect()` when the test wants a snapshot. */
export class ManualReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

export function createMetrics() {
  const reader = new ManualReader();
  const provider = new MeterProvider({ readers: [reader] });
  return {
    reader,
    provider,
    async collect(): Promise<MetricsView> {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0) throw errors[0];
      return new MetricsView(resourceMetrics);
    },
  };
}

export class MetricsView {
  constructor(readonly resourceMetrics: ResourceMetrics) {}

  all(): MetricData[] {
    return this.resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
  }

  names(): string[] {
    return [...new Set(this.all().map((m) => m.descriptor.name))].sort();
  }

  metric(name: string): MetricData | undefined {
    return this.all().find((m) => m.descriptor.name === name);
  }

  /** Data points of `name` whose attributes include `match`. */
  points(name: string, match: Record<string, unknown> = {}): DataPoint<unknown>[] {
    const metric = this.metric(name);
    if (!metric) return [];
    return (metric.dataPoints as DataPoint<unknown>[]).filter((p) =>
      Object.entries(match).every(([k, v]) => p.attributes[k] === v),
    );
  }

  /** The single value (sum / gauge) of `name` for `match`, or undefined. */
  value(name: string, match: Record<string, unknown> = {}): number | undefined {
    const points = this.points(name, match);
    if (points.length === 0) return undefined;
    return points.reduce((sum, p) => sum + (p.value as number), 0);
  }

  /** Total count of a histogram for `match`. */
  count(name: string, match: Record<string, unknown> = {}): number {
    return this.points(name, match).reduce((sum, p) => sum + (p.value as { count: number }).count, 0);
  }
}
