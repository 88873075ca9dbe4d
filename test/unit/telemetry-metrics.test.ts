import { afterEach, describe, expect, it } from 'vitest';
import { createPool } from '../../src/index.js';
import { createMetrics, createTracing } from '../support/otel.js';
import { FakeSqlDriver, FakeSqlError } from '../support/telemetry-fake-driver.js';

const pools: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

function setup(name: string, metrics = createMetrics(), options: Record<string, unknown> = {}) {
  const driver = new FakeSqlDriver();
  const pool = createPool(driver, {
    name,
    size: 2,
    maxOverflow: 1,
    minIdle: 1,
    telemetry: { meterProvider: metrics.provider },
    ...options,
  });
  pools.push(pool);
  return { pool, driver, metrics };
}

const POOL = 'db.client.connection.pool.name';

describe('pool metrics', () => {
  it('the semconv connection-pool set plus db.client.operation.duration', async () => {
    const { pool, metrics, driver } = setup('main');
    await pool.ready();
    await pool.use((c) => c.query('SELECT * FROM users WHERE id = $1', [1]));
    await pool.transaction((c) => c.query('SELECT 1'));
    const error = new FakeSqlError('duplicate key', '23505');
    await expect(
      pool.use((c) => c.query('INSERT INTO users (id) VALUES ($1)', [1], { fail: error })),
    ).rejects.toBe(error);
    const m = await metrics.collect();
    expect(m.names()).toEqual(
      expect.arrayContaining([
        'db.client.operation.duration',
        'db.client.connection.count',
        'db.client.connection.idle.max',
        'db.client.connection.idle.min',
        'db.client.connection.limit',
        'db.client.connection.max',
        'db.client.connection.pending_requests',
        'db.client.connection.create_time',
        'db.client.connection.wait_time',
        'db.client.connection.use_time',
        'cistern.pool.connection.overflow',
        'cistern.pool.connection.connecting',
      ]),
    );
    // one operation per query, BEGIN and COMMIT included
    expect(m.count('db.client.operation.duration', { [POOL]: 'main' })).toBe(5);
    expect(m.count('db.client.operation.duration', { 'db.query.summary': 'SELECT users' })).toBe(1);
    const [ok] = m.points('db.client.operation.duration', { 'db.query.summary': 'SELECT users' });
    expect(ok.attributes).toEqual({
      'db.system.name': 'postgresql',
      'db.namespace': 'app',
      'db.query.summary': 'SELECT users',
      'server.address': '127.0.0.1',
      'server.port': 5432,
      [POOL]: 'main',
    });
    const [failed] = m.points('db.client.operation.duration', { 'error.type': '23505' });
    expect(failed.attributes).toMatchObject({
      'db.response.status_code': '23505',
      'db.query.summary': 'INSERT users',
    });
    const duration = m.metric('db.client.operation.duration')!;
    expect(duration.descriptor.unit).toBe('s');
    expect((ok.value as { buckets: { boundaries: number[] } }).buckets.boundaries).toEqual([
      0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10,
    ]);

    // the gauges are what stats() says at collection time (how many connections the core kept open is its business)
    const stats = pool.stats();
    expect(stats.idle).toBeGreaterThanOrEqual(1);
    expect(
      m.value('db.client.connection.count', { [POOL]: 'main', 'db.client.connection.state': 'idle' }),
    ).toBe(stats.idle);
    expect(
      m.value('db.client.connection.count', { [POOL]: 'main', 'db.client.connection.state': 'used' }),
    ).toBe(0);
    expect(m.value('db.client.connection.idle.max', { [POOL]: 'main' })).toBe(2);
    expect(m.value('db.client.connection.idle.min', { [POOL]: 'main' })).toBe(1);
    expect(m.value('db.client.connection.limit', { [POOL]: 'main' })).toBe(3);
    expect(m.value('db.client.connection.max', { [POOL]: 'main' })).toBe(3);
    expect(m.value('db.client.connection.pending_requests', { [POOL]: 'main' })).toBe(0);
    expect(m.count('db.client.connection.create_time', { [POOL]: 'main' })).toBe(driver.connections.length);
    expect(m.count('db.client.connection.wait_time', { [POOL]: 'main' })).toBe(3);
    expect(m.count('db.client.connection.use_time', { [POOL]: 'main' })).toBe(3);
    expect(m.metric('db.client.connection.wait_time')!.descriptor.unit).toBe('s');
  });

  it('gauges follow the pool under load: used, pending and overflow', async () => {
    const { pool, metrics } = setup('busy');
    const held = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    const waiting = [pool.use((c) => c.query('SELECT 1')), pool.use((c) => c.query('SELECT 2'))];
    await new Promise((r) => setImmediate(r));
    const m = await metrics.collect();
    expect(
      m.value('db.client.connection.count', { [POOL]: 'busy', 'db.client.connection.state': 'used' }),
    ).toBe(3);
    expect(m.value('db.client.connection.pending_requests', { [POOL]: 'busy' })).toBe(2);
    expect(m.value('cistern.pool.connection.overflow', { [POOL]: 'busy' })).toBe(1);
    for (const c of held) pool.release(c);
    await Promise.all(waiting);
    const after = await metrics.collect();
    expect(after.value('db.client.connection.pending_requests', { [POOL]: 'busy' })).toBe(0);
    expect(
      after.value('db.client.connection.count', { [POOL]: 'busy', 'db.client.connection.state': 'used' }),
    ).toBe(0);
    // the overflow connection was closed at check-in
    expect(
      after.value('cistern.pool.connection.closed', {
        [POOL]: 'busy',
        'cistern.connection.close_reason': 'overflow',
      }),
    ).toBe(1);
  });

  it('timeouts, invalidations and close reasons are counted', async () => {
    const { pool, metrics } = setup('faults', createMetrics(), { maxOverflow: 0, size: 1, minIdle: 0 });
    const conn = await pool.acquire();
    await expect(pool.acquire({ timeoutMs: 5 })).rejects.toMatchObject({ code: 'POOL_TIMEOUT' });
    pool.invalidate(conn, new Error('broken'));
    await pool.use((c) => c.query('SELECT 1'));
    const m = await metrics.collect();
    expect(m.value('db.client.connection.timeouts', { [POOL]: 'faults' })).toBe(1);
    expect(
      m.value('cistern.pool.checkout.failures', {
        [POOL]: 'faults',
        'cistern.checkout.failure_reason': 'timeout',
      }),
    ).toBe(1);
    expect(m.value('cistern.pool.connection.invalidated', { [POOL]: 'faults' })).toBe(1);
    expect(
      m.value('cistern.pool.connection.closed', {
        [POOL]: 'faults',
        'cistern.connection.close_reason': 'invalidated',
      }),
    ).toBe(1);
    expect(m.count('db.client.connection.create_time', { [POOL]: 'faults' })).toBe(2);
  });

  it('with spans on, each recorded duration is exactly its span duration', async () => {
    const tracing = createTracing();
    const metrics = createMetrics();
    const pool = createPool(new FakeSqlDriver(), {
      name: 'both',
      telemetry: { tracerProvider: tracing.provider, meterProvider: metrics.provider },
    });
    pools.push(pool);
    for (let i = 0; i < 3; i++) await pool.use((c) => c.query('SELECT 1'));
    const spanSeconds = tracing.spans().reduce((sum, s) => sum + s.duration[0] + s.duration[1] / 1e9, 0);
    const [point] = (await metrics.collect()).points('db.client.operation.duration', { [POOL]: 'both' });
    const histogram = point.value as { sum: number; count: number };
    expect(histogram.count).toBe(3);
    expect(histogram.sum).toBeCloseTo(spanSeconds, 9);
  });

  it('two pools on one meter never mix', async () => {
    const metrics = createMetrics();
    const a = setup('pool-a', metrics);
    const b = setup('pool-b', metrics);
    await a.pool.use((c) => c.query('SELECT 1'));
    for (let i = 0; i < 3; i++) await b.pool.use((c) => c.query('SELECT 1'));
    const held = await b.pool.acquire();
    const m = await metrics.collect();
    expect(m.count('db.client.operation.duration', { [POOL]: 'pool-a' })).toBe(1);
    expect(m.count('db.client.operation.duration', { [POOL]: 'pool-b' })).toBe(3);
    expect(m.count('db.client.connection.wait_time', { [POOL]: 'pool-a' })).toBe(1);
    expect(m.count('db.client.connection.wait_time', { [POOL]: 'pool-b' })).toBe(4);
    expect(
      m.value('db.client.connection.count', { [POOL]: 'pool-a', 'db.client.connection.state': 'used' }),
    ).toBe(0);
    expect(
      m.value('db.client.connection.count', { [POOL]: 'pool-b', 'db.client.connection.state': 'used' }),
    ).toBe(1);
    // exactly one data point per pool and state: no shared counter
    expect(m.points('db.client.connection.count', { 'db.client.connection.state': 'used' })).toHaveLength(2);
    b.pool.release(held);
  });

  it('a closed pool stops observing; telemetry: false reports nothing', async () => {
    const metrics = createMetrics();
    const { pool, driver } = setup('closing', metrics);
    await pool.use((c) => c.query('SELECT 1'));
    let statsCalls = 0;
    const stats = pool.stats.bind(pool);
    Object.assign(pool, {
      stats: () => {
        statsCalls++;
        return stats();
      },
    });
    expect(
      (await metrics.collect()).points('db.client.connection.count', { [POOL]: 'closing' }),
    ).toHaveLength(2);
    expect(statsCalls).toBe(1);
    await pool.close();
    const after = await metrics.collect();
    expect(
      after.value('cistern.pool.connection.closed', {
        [POOL]: 'closing',
        'cistern.connection.close_reason': 'poolClosed',
      }),
    ).toBe(driver.connections.length);
    // no callback of the closed pool runs any more (the SDK may still repeat its last observation)
    expect(statsCalls).toBe(1);
    const off = createMetrics();
    const silent = createPool(new FakeSqlDriver(), { name: 'off', telemetry: false });
    pools.push(silent);
    await silent.use((c) => c.query('SELECT 1'));
    expect((await off.collect()).all()).toHaveLength(0);
  });
});
