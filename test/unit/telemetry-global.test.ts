import { metrics, trace } from '@opentelemetry/api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type Pool } from '../../src/index.js';
import type { InstrumentablePool } from '../../src/telemetry/index.js';
import { createMetrics, createTracing, useAsyncContext } from '../support/otel.js';
import { FakeSqlDriver } from '../support/telemetry-fake-driver.js';

let restoreContext: () => void;
beforeAll(() => {
  restoreContext = useAsyncContext();
});
afterAll(() => restoreContext());

const pools: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
  trace.disable();
  metrics.disable();
});

// compile-time: the real Pool is what instrumentPool accepts
const acceptsPool = (pool: Pool<unknown>): InstrumentablePool => pool;
void acceptsPool;

describe('global providers', () => {
  it('with no SDK registered the observer does nothing and the pool works', async () => {
    const driver = new FakeSqlDriver();
    const pool = createPool(driver, { name: 'nosdk' });
    pools.push(pool);
    const rows = await pool.use((c) => c.query('SELECT $1', ['x']));
    await pool.transaction((c) => c.query('SELECT 1'));
    expect(rows.rows).toEqual([{ value: 'x' }]);
    const observer = (
      driver.connections[0] as unknown as { observer: { start: Function; active(): boolean } }
    ).observer;
    expect(observer).toBeDefined();
    expect(observer.active()).toBe(false);
    // the same shared no-op scope every time: nothing allocated per query
    const meta = driver.connections[0].meta;
    expect(observer.start({ text: 'SELECT 1' }, meta)).toBe(observer.start({ text: 'SELECT 2' }, meta));
  });

  it('an SDK registered after the pool was created is used (spans, metrics and gauges)', async () => {
    const driver = new FakeSqlDriver();
    const pool = createPool(driver, { name: 'late' });
    pools.push(pool);
    await pool.use((c) => c.query('SELECT * FROM before_sdk'));

    const tracing = createTracing();
    const meter = createMetrics();
    const observer = (driver.connections[0] as unknown as { observer: { active(): boolean } }).observer;
    expect(observer.active()).toBe(false);
    trace.setGlobalTracerProvider(tracing.provider);
    metrics.setGlobalMeterProvider(meter.provider);
    expect(observer.active()).toBe(true);

    await tracing.tracer.startActiveSpan('request', async (span) => {
      await pool.use((c) => c.query('SELECT * FROM after_sdk'));
      span.end();
    });
    const spans = tracing.spans();
    expect(spans.map((s) => s.name)).toEqual(['SELECT after_sdk', 'request']);
    expect(spans[0].parentSpanContext?.spanId).toBe(spans[1].spanContext().spanId);
    const m = await meter.collect();
    expect(m.count('db.client.operation.duration', { 'db.client.connection.pool.name': 'late' })).toBe(1);
    expect(m.value('db.client.connection.idle.max', { 'db.client.connection.pool.name': 'late' })).toBe(5);
    expect(m.count('db.client.connection.use_time', { 'db.client.connection.pool.name': 'late' })).toBe(1);
  });

  it('telemetry: false ignores registered global providers', async () => {
    const tracing = createTracing();
    const meter = createMetrics();
    trace.setGlobalTracerProvider(tracing.provider);
    metrics.setGlobalMeterProvider(meter.provider);
    const pool = createPool(new FakeSqlDriver(), { name: 'off', telemetry: false });
    pools.push(pool);
    await pool.use((c) => c.query('SELECT 1'));
    await pool.transaction((c) => c.query('SELECT 1'));
    expect(tracing.spans()).toHaveLength(0);
    expect((await meter.collect()).all()).toHaveLength(0);
  });
});
