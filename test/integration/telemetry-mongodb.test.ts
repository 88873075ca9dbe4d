/**
 * cistern/mongodb + cistern's telemetry (the real OpenTelemetry SDK, in memory):
 * one CLIENT span per command, parented under the caller's span even when callers
 * wait for connections, the server's code on failures, no document contents, no
 * password. Against the wire-protocol test server (and MONGODB_URL when set).
 */
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type MongoConnection, mongodb } from '../../src/drivers/mongodb/index.js';
import { createPool, type Pool } from '../../src/index.js';
import { type MongoTarget, mongoTargets, uniqueName } from '../support/mongo-targets.js';
import { createTracing, useAsyncContext } from '../support/otel.js';

/** Everything an exporter would send of these spans, as text. */
function visible(spans: ReadonlyArray<ReadableSpan>): string {
  return JSON.stringify(
    spans.map((s) => ({
      name: s.name,
      attributes: s.attributes,
      events: s.events,
      status: s.status,
      links: s.links,
    })),
  );
}

describe.each(mongoTargets)('telemetry with cistern/mongodb against the $label', (spec) => {
  let target: MongoTarget | undefined;
  let restoreContext: () => void;
  let pool: Pool<MongoConnection>;
  const tracing = createTracing();

  beforeAll(async () => {
    restoreContext = useAsyncContext();
    target = await spec.start();
    if (target) {
      pool = createPool(mongodb(target.url, { closeTimeoutMs: 500 }), {
        name: 'mongo-telemetry',
        size: 2,
        maxOverflow: 0,
        telemetry: { tracerProvider: tracing.provider },
      });
    }
  });
  afterAll(async () => {
    await pool?.close();
    await target?.stop();
    restoreContext();
  });
  beforeEach((ctx) => {
    if (!target) ctx.skip();
    target?.server?.reset();
    tracing.exporter.reset();
  });

  it('a find: one CLIENT span with the semantic-convention attributes and no document contents', async () => {
    const name = uniqueName('tel');
    await pool.use((c) => c.collection(name).findOne({ email: 'private@example.com' }));
    const spans = tracing.spans().filter((s) => s.attributes['db.collection.name'] === name);
    expect(spans).toHaveLength(1);
    const [span] = spans;
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.attributes).toMatchObject({
      'db.system.name': 'mongodb',
      'db.operation.name': 'find',
      'db.collection.name': name,
      'db.namespace': pool.driver.target.database,
    });
    expect(span.attributes['db.query.text']).toBeUndefined();
    expect(visible([span])).not.toContain('private@example.com');
    // handshakes, heartbeats and pre-pings are not spans
    for (const s of tracing.spans())
      expect(['hello', 'isMaster', 'ping']).not.toContain(s.attributes['db.operation.name']);
  });

  it('spans are children of the caller’s span, 8 callers waiting for 2 connections', async () => {
    const tracer = tracing.provider.getTracer('test');
    const prefix = uniqueName('par');
    const parents = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        tracer.startActiveSpan(`caller ${i}`, async (parent) => {
          await pool.use((c) => c.collection(`${prefix}_${i}`).findOne({}));
          parent.end();
          return parent.spanContext().spanId;
        }),
      ),
    );
    const finds = tracing
      .spans()
      .filter((s) => String(s.attributes['db.collection.name']).startsWith(prefix));
    expect(finds).toHaveLength(8);
    for (const span of finds) {
      const i = Number(String(span.attributes['db.collection.name']).slice(prefix.length + 1));
      expect(span.parentSpanContext?.spanId).toBe(parents[i]);
    }
    expect(trace.getSpan(context.active())).toBeUndefined();
  });

  it('a duplicate key: status ERROR with db.response.status_code 11000', async () => {
    const name = uniqueName('dup');
    await pool.use((c) => c.collection(name).insertOne({ _id: 'same-key' as never }));
    await expect(
      pool.use((c) => c.collection(name).insertOne({ _id: 'same-key' as never })),
    ).rejects.toMatchObject({
      code: 11000,
    });
    const inserts = tracing.spans().filter((s) => s.attributes['db.operation.name'] === 'insert');
    expect(inserts).toHaveLength(2);
    expect(inserts[1].status.code).toBe(SpanStatusCode.ERROR);
    expect(inserts[1].attributes['db.response.status_code']).toBe('11000');
    expect(visible(inserts)).not.toContain('same-key');
    await pool.use((c) => c.collection(name).drop());
  });

  it('an unknown command: status ERROR with the server code 59', async () => {
    await expect(pool.use((c) => c.db().command({ cisternNoSuchCommand: 1 }))).rejects.toMatchObject({
      code: 59,
    });
    const [span] = tracing
      .spans()
      .filter((s) => s.attributes['db.operation.name'] === 'cisternNoSuchCommand');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['db.response.status_code']).toBe('59');
  });
});
