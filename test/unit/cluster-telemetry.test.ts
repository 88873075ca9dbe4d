/**
 * Each cluster member is a pool of its own, composed with telemetry like any pool
 * from createPool: its metrics carry the member's name.
 */
import { describe, expect, it } from 'vitest';
import { createCluster } from '../../src/index.js';
import { createMetrics } from '../support/otel.js';
import { FakeSqlDriver } from '../support/telemetry-fake-driver.js';

const POOL = 'db.client.connection.pool.name';

describe('cluster telemetry', () => {
  it('per-member pool metrics, named <cluster>/<member>', async () => {
    const metrics = createMetrics();
    const cluster = createCluster({
      name: 'shop',
      primary: new FakeSqlDriver(),
      replicas: [new FakeSqlDriver(), new FakeSqlDriver()],
      size: 2,
      maxOverflow: 3,
      healthCheckIntervalMs: 0,
      telemetry: { meterProvider: metrics.provider },
    });
    try {
      await cluster.use((c) => c.query('INSERT INTO t VALUES ($1)', [1]));
      await cluster.read((c) => c.query('SELECT 1'));
      const m = await metrics.collect();
      for (const member of ['shop/primary', 'shop/replica-0', 'shop/replica-1']) {
        expect(m.value('db.client.connection.max', { [POOL]: member }), member).toBe(5);
      }
      expect(m.count('db.client.operation.duration', { [POOL]: 'shop/primary' })).toBe(1);
      expect(m.count('db.client.operation.duration', { [POOL]: 'shop/replica-0' })).toBe(1);
      expect(m.count('db.client.operation.duration', { [POOL]: 'shop/replica-1' })).toBe(0);
    } finally {
      await cluster.close();
    }
  });
});
