/**
 * End to end over the wire: the real OTLP/HTTP exporters (JSON encoding) send to a
 * receiver started here on 127.0.0.1, which decodes what arrives. Same path as
 * Jaeger's OTLP/HTTP port 4318.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../src/index.js';
import { useAsyncContext } from '../support/otel.js';
import { FakeSqlDriver } from '../support/telemetry-fake-driver.js';

interface Received {
  path: string;
  contentType: string;
  raw: string;
  body: any;
}

let server: http.Server;
let base: string;
const received: Received[] = [];
let restoreContext: () => void;

beforeAll(async () => {
  restoreContext = useAsyncContext();
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let data = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') data = zlib.gunzipSync(data);
      const raw = data.toString('utf8');
      received.push({
        path: req.url ?? '',
        contentType: String(req.headers['content-type']),
        raw,
        body: JSON.parse(raw),
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  restoreContext();
  await new Promise((resolve) => server.close(resolve));
});

type OtlpValue = {
  stringValue?: string;
  intValue?: number | string;
  boolValue?: boolean;
  doubleValue?: number;
};
const attrs = (list: { key: string; value: OtlpValue }[] = []) =>
  Object.fromEntries(
    list.map(({ key, value }) => [
      key,
      value.stringValue ??
        (value.intValue !== undefined ? Number(value.intValue) : (value.boolValue ?? value.doubleValue)),
    ]),
  );

describe('OTLP/HTTP end to end', () => {
  it('spans and metrics arrive decoded, linked, and free of parameter values', async () => {
    const resource = resourceFromAttributes({ 'service.name': 'cistern-e2e' });
    const tracerProvider = new BasicTracerProvider({
      resource,
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${base}/v1/traces` }))],
    });
    const meterProvider = new MeterProvider({
      resource,
      readers: [
        new PeriodicExportingMetricReader({
          exporter: new OTLPMetricExporter({ url: `${base}/v1/metrics` }),
          exportIntervalMillis: 3_600_000,
        }),
      ],
    });
    const pool = createPool(new FakeSqlDriver(), {
      name: 'e2e',
      size: 1,
      telemetry: { tracerProvider, meterProvider },
    });
    const tracer = tracerProvider.getTracer('test');
    await tracer.startActiveSpan('GET /users', async (span) => {
      await pool.use((c) => c.query('SELECT * FROM users WHERE email = $1', ['e2e-secret@example.com']));
      await pool.transaction((c) => c.query('UPDATE users SET seen = now() WHERE id = $1', [7]));
      span.end();
    });
    await tracerProvider.forceFlush();
    await meterProvider.forceFlush();
    await pool.close();
    await tracerProvider.shutdown();
    await meterProvider.shutdown();

    const traces = received.filter((r) => r.path === '/v1/traces');
    const metricPosts = received.filter((r) => r.path === '/v1/metrics');
    expect(traces.length).toBeGreaterThan(0);
    expect(metricPosts.length).toBeGreaterThan(0);
    expect(traces[0].contentType).toBe('application/json');
    for (const r of received) expect(r.raw).not.toContain('e2e-secret');

    const resourceSpans = traces.flatMap((r) => r.body.resourceSpans);
    expect(attrs(resourceSpans[0].resource.attributes)['service.name']).toBe('cistern-e2e');
    const spans = resourceSpans
      .flatMap((rs: any) => rs.scopeSpans)
      .flatMap((ss: any) =>
        ss.spans.map((s: any) => ({ ...s, scope: ss.scope.name, attributes: attrs(s.attributes) })),
      );
    const byName = (name: string) => spans.find((s: any) => s.name === name);
    const request = byName('GET /users');
    const select = byName('SELECT users');
    const tx = byName('transaction e2e');
    expect(select).toMatchObject({ kind: 3, scope: 'cistern' });
    expect(select.attributes).toMatchObject({
      'db.system.name': 'postgresql',
      'db.namespace': 'app',
      'db.query.text': 'SELECT * FROM users WHERE email = $1',
      'server.address': '127.0.0.1',
      'server.port': 5432,
    });
    expect(select.parentSpanId).toBe(request.spanId);
    expect(tx).toMatchObject({ kind: 1, parentSpanId: request.spanId });
    expect(tx.attributes['cistern.transaction.outcome']).toBe('committed');
    const txChildren = spans.filter((s: any) => s.parentSpanId === tx.spanId).map((s: any) => s.name);
    expect(txChildren).toEqual(['BEGIN', 'UPDATE users', 'COMMIT']);
    expect(new Set(spans.map((s: any) => s.traceId)).size).toBe(1);

    const metrics = metricPosts
      .flatMap((r) => r.body.resourceMetrics)
      .flatMap((rm: any) => rm.scopeMetrics)
      .flatMap((sm: any) => sm.metrics);
    const metric = (name: string) => metrics.find((m: any) => m.name === name);
    const duration = metric('db.client.operation.duration');
    expect(duration.unit).toBe('s');
    const points = duration.histogram.dataPoints.map((p: any) => ({ ...p, attributes: attrs(p.attributes) }));
    expect(points.reduce((n: number, p: any) => n + Number(p.count), 0)).toBe(4);
    expect(points.every((p: any) => p.attributes['db.client.connection.pool.name'] === 'e2e')).toBe(true);
    expect(points[0].explicitBounds).toEqual([0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10]);
    const count = metric('db.client.connection.count');
    const states = count.sum.dataPoints
      .map((p: any) => attrs(p.attributes)['db.client.connection.state'])
      .sort();
    expect(states).toEqual(['idle', 'used']);
    expect(metric('db.client.connection.wait_time').histogram.dataPoints.length).toBe(1);
  });
});
