/**
 * cistern's telemetry with the OpenTelemetry SDK a user starting today installs:
 * the 3.x family (@opentelemetry/sdk-trace 3, sdk-metrics 3, api 1.10; Node >= 22.15),
 * registered globally as a user would, against the real PostgreSQL. cistern is the
 * packed tarball (.ci/run installs it here), postgres.js is 4.x.
 * Asserts spans (CLIENT query span inside the caller's span, transaction tree) and
 * metrics (operation duration, connection gauges) arrive in the in-memory exporters.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { context, metrics, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { createPool } from 'cistern';
import { postgres } from 'cistern/postgres';

const PG_URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

class Reader extends MetricReader {
  async onForceFlush() {}
  async onShutdown() {}
}

const spans = new InMemorySpanExporter();
const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] });
const reader = new Reader({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
const meterProvider = new MeterProvider({ readers: [reader] });
let pool;

before(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  pool = createPool(postgres(PG_URL, { applicationName: 'cistern-otel-sdk3' }), { name: 'sdk3-pg', size: 2 });
});

after(
  async () => {
    await pool?.close();
    await tracerProvider.shutdown();
    await meterProvider.shutdown();
  },
  { timeout: 20_000 },
);

test('SDK 3: a query is a CLIENT span, child of the caller span, with the text as sent', {
  timeout: 20_000,
}, async () => {
  spans.reset();
  const tracer = trace.getTracer('sdk3-test');
  const rows = await tracer.startActiveSpan('handler', async (parent) => {
    try {
      return await pool.use((c) => c.sql`select ${'sdk3-secret'}::text as v, 1 as one`);
    } finally {
      parent.end();
    }
  });
  assert.equal(rows[0].one, 1);
  const finished = spans.getFinishedSpans();
  const parent = finished.find((s) => s.name === 'handler');
  const query = finished.find((s) => s.kind === SpanKind.CLIENT);
  assert.ok(query, `no CLIENT span among ${finished.map((s) => s.name).join(', ')}`);
  assert.equal(query.attributes['db.system.name'], 'postgresql');
  assert.equal(query.attributes['db.query.text'], 'select $1::text as v, 1 as one');
  assert.equal(query.spanContext().traceId, parent.spanContext().traceId);
  assert.equal(query.parentSpanContext?.spanId ?? query.parentSpanId, parent.spanContext().spanId);
  assert.ok(!JSON.stringify(finished.map((s) => s.attributes)).includes('sdk3-secret'));
});

test('SDK 3: a transaction is one span with BEGIN, the query and COMMIT inside it', {
  timeout: 20_000,
}, async () => {
  spans.reset();
  await pool.transaction((c) => c.sql`select 2 as two`);
  const finished = spans.getFinishedSpans();
  const clients = finished.filter((s) => s.kind === SpanKind.CLIENT);
  const internal = finished.filter((s) => s.kind === SpanKind.INTERNAL);
  assert.equal(internal.length, 1, `spans: ${finished.map((s) => `${s.name}/${s.kind}`).join(', ')}`);
  assert.ok(clients.length >= 1);
  for (const c of clients) assert.equal(c.spanContext().traceId, internal[0].spanContext().traceId);
});

test('SDK 3: metrics arrive: operation duration and the pool connection gauges', {
  timeout: 20_000,
}, async () => {
  const { resourceMetrics, errors } = await reader.collect();
  assert.deepEqual(errors, []);
  const found = new Map();
  for (const scope of resourceMetrics.scopeMetrics)
    for (const m of scope.metrics) found.set(m.descriptor.name, m.dataPoints);
  const duration = found.get('db.client.operation.duration');
  assert.ok(duration?.length > 0, `metrics seen: ${[...found.keys()].join(', ')}`);
  const point = (summary) =>
    duration.find(
      (p) =>
        p.attributes['db.system.name'] === 'postgresql' &&
        p.attributes['db.client.connection.pool.name'] === 'sdk3-pg' &&
        p.attributes['db.query.summary'] === summary,
    );
  // the two SELECTs of the tests above, and the transaction's BEGIN and COMMIT
  assert.ok(point('select')?.value.count >= 2, JSON.stringify(duration.map((p) => p.attributes)));
  assert.equal(point('begin')?.value.count, 1);
  assert.equal(point('commit')?.value.count, 1);
  const count = found.get('db.client.connection.count');
  assert.ok(count?.some((p) => p.attributes['db.client.connection.pool.name'] === 'sdk3-pg'));
});
