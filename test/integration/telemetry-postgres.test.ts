/**
 * cistern/postgres + telemetry against the real PostgreSQL: span names and
 * attributes, SQLSTATE on errors, transaction trees, context under contention,
 * and no parameter value or password anywhere.
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgres } from '../../src/drivers/postgres/index.js';
import { createPool } from '../../src/index.js';
import { createMetrics, createTracing, useAsyncContext } from '../support/otel.js';
import { PG_URL, serverAvailable } from '../support/servers.js';

const available = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');
const url = new URL(PG_URL);
// trust auth ignores the password, so one can be put in the URL to check it never leaks
const urlWithPassword = new URL(PG_URL);
if (!urlWithPassword.password) urlWithPassword.password = 'cistern-pw-secret';
const PASSWORD = decodeURIComponent(urlWithPassword.password);

describe.skipIf(!available)('telemetry with cistern/postgres', () => {
  let restoreContext: () => void;
  const tracing = createTracing();
  const metrics = createMetrics();
  const pool = createPool(postgres(urlWithPassword.href), {
    name: 'pg-telemetry',
    size: 2,
    maxOverflow: 0,
    telemetry: { tracerProvider: tracing.provider, meterProvider: metrics.provider },
  });

  const seen: ReturnType<typeof tracing.spans> = [];
  const reset = () => {
    seen.push(...tracing.spans());
    tracing.exporter.reset();
  };

  beforeAll(() => {
    restoreContext = useAsyncContext();
  });
  afterAll(async () => {
    await pool.close();
    restoreContext();
  });

  it('a tagged-template query: CLIENT span with the parameterized text as sent', async () => {
    const secret = 'pg-param-secret-1';
    const rows = await pool.use(
      (c) => c.sql`select ${secret}::text as v, relname from pg_class where relname = ${'x'}`,
    );
    expect(rows).toHaveLength(0);
    const [span] = tracing.spans().filter((s) => s.kind === SpanKind.CLIENT);
    expect(span.name).toBe('select pg_class');
    expect(span.attributes).toMatchObject({
      'db.system.name': 'postgresql',
      'db.namespace': url.pathname.slice(1),
      'db.query.text': 'select $1::text as v, relname from pg_class where relname = $2',
      'server.address': url.hostname,
      'server.port': Number(url.port),
    });
    expect(JSON.stringify(tracing.spans().map((s) => s.attributes))).not.toContain(secret);
  });

  it('an error: SQLSTATE as db.response.status_code and error.type, status ERROR', async () => {
    reset();
    await expect(pool.use((c) => c.query('select * from no_such_table_cistern'))).rejects.toMatchObject({
      code: '42P01',
    });
    const [span] = tracing.spans();
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes).toMatchObject({ 'db.response.status_code': '42P01', 'error.type': '42P01' });
  });

  it('a transaction: INTERNAL span, BEGIN / query / COMMIT children, outcome committed', async () => {
    reset();
    await tracing.tracer.startActiveSpan('request', async (parent) => {
      await pool.transaction((c) => c.query('select $1::int as n', [1]), { isolation: 'serializable' });
      parent.end();
    });
    const spans = tracing.spans();
    const tx = spans.find((s) => s.name === 'transaction pg-telemetry')!;
    expect(tx.attributes['cistern.transaction.outcome']).toBe('committed');
    const children = spans.filter((s) => s.parentSpanContext?.spanId === tx.spanContext().spanId);
    expect(children.map((s) => s.attributes['db.operation.name'] ?? s.name)).toEqual([
      'BEGIN',
      'select',
      'COMMIT',
    ]);
  });

  it('under contention each query is the child of its own caller', async () => {
    reset();
    const callers = 20;
    await Promise.all(
      Array.from({ length: callers }, (_, i) =>
        tracing.tracer.startActiveSpan(`caller-${i}`, async (span) => {
          await pool.use((c) => c.query(`select pg_sleep(0.002), $1::int as caller_${i}`, [i]));
          span.end();
        }),
      ),
    );
    const spans = tracing.spans();
    const callersById = new Map(
      spans.filter((s) => s.name.startsWith('caller-')).map((s) => [s.spanContext().spanId, s.name]),
    );
    const queries = spans.filter((s) => s.kind === SpanKind.CLIENT);
    expect(queries).toHaveLength(callers);
    for (const q of queries) {
      const i = /caller_(\d+)/.exec(String(q.attributes['db.query.text']))![1];
      expect(callersById.get(q.parentSpanContext!.spanId)).toBe(`caller-${i}`);
    }
  });

  it('metrics: operation duration and the pool gauges for this pool; no password anywhere', async () => {
    const m = await metrics.collect();
    expect(JSON.stringify(m.resourceMetrics)).not.toContain(PASSWORD);
    reset();
    expect(seen.length).toBeGreaterThan(25);
    expect(JSON.stringify(seen.map((s) => [s.name, s.attributes, s.events]))).not.toContain(PASSWORD);
    expect(
      m.count('db.client.operation.duration', { 'db.client.connection.pool.name': 'pg-telemetry' }),
    ).toBeGreaterThan(20);
    expect(m.value('db.client.connection.limit', { 'db.client.connection.pool.name': 'pg-telemetry' })).toBe(
      2,
    );
    expect(
      m.count('db.client.connection.create_time', { 'db.client.connection.pool.name': 'pg-telemetry' }),
    ).toBe(2);
  });
});
