import { afterEach, describe, expect, it } from 'vitest';
import { Cluster } from '../../src/cluster/cluster.js';
import { createCluster, PoolConfigError, pgRole } from '../../src/index.js';
import { Pool } from '../../src/pool/pool.js';
import { closeClusters, HostDriver, makeCluster } from '../support/cluster-fakes.js';
import { useFakeClock } from '../support/pool-harness.js';

useFakeClock();
afterEach(closeClusters);

const make = (o: Record<string, unknown>) =>
  new Cluster(o as never, (driver, options) => new Pool(driver, { ...options, telemetry: false }));

describe('cluster options', () => {
  it.each([
    [{}, 'primary', /got undefined, expected a driver/],
    [{ primary: new HostDriver('p', 'primary'), replicas: 'x' }, 'replicas', /expected an array of drivers/],
    [{ primary: new HostDriver('p', 'primary'), replicas: [{}] }, 'replicas[0]', /expected a driver/],
    [
      { primary: new HostDriver('p', 'primary'), readFallback: 'replica' },
      'readFallback',
      /got "replica", expected 'primary' or 'error'/,
    ],
    [
      { primary: new HostDriver('p', 'primary'), healthCheckIntervalMs: -1 },
      'healthCheckIntervalMs',
      /expected an integer >= 0/,
    ],
    [
      { primary: new HostDriver('p', 'primary'), retryInitialMs: 2000, retryMaxMs: 1000 },
      'retryMaxMs',
      /expected an integer >= retryInitialMs/,
    ],
    [{ primary: new HostDriver('p', 'primary'), roles: 'pg' }, 'roles', /expected a function/],
    [{ primary: new HostDriver('p', 'primary'), name: '' }, 'name', /expected a non-empty string/],
  ])('rejects %j naming %s', (options, option, message) => {
    let error: unknown;
    try {
      make(options);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PoolConfigError);
    expect(error).toMatchObject({ option, message: expect.stringMatching(message) });
  });

  it('pool options are validated by each member pool (unknown keys rejected)', () => {
    expect(() => make({ primary: new HostDriver('p', 'primary'), sizee: 3 })).toThrow(PoolConfigError);
    expect(() => make({ primary: new HostDriver('p', 'primary'), size: -1 })).toThrow(/size/);
  });

  it('pool options apply to every member; the default name is the primary target', async () => {
    const cluster = createCluster({
      primary: new HostDriver('p', 'primary'),
      replicas: [new HostDriver('r0', 'replica')],
      size: 3,
      maxOverflow: 1,
      telemetry: false,
    });
    try {
      expect(cluster.name).toBe('p:1/db');
      expect(cluster.stats().members.map((m) => [m.name, m.max])).toEqual([
        ['p:1/db/primary', 4],
        ['p:1/db/replica-0', 4],
      ]);
    } finally {
      await cluster.close();
    }
  });

  it('makeCluster helper and the public createCluster build the same shape', () => {
    const { cluster } = makeCluster(1);
    expect(Object.keys(cluster.stats())).toEqual(['name', 'primary', 'members']);
  });
});

describe('role probes', () => {
  it('pgRole reads rows arrays and { rows }; true/"t" mean replica', async () => {
    const q = (value: unknown, shape: 'array' | 'rows') => ({
      query: async () => (shape === 'array' ? [{ read_only: value }] : { rows: [{ read_only: value }] }),
    });
    expect(await pgRole(q(false, 'array'))).toBe('primary');
    expect(await pgRole(q(true, 'array'))).toBe('replica');
    expect(await pgRole(q('t', 'rows'))).toBe('replica');
    expect(await pgRole(q('f', 'rows'))).toBe('primary');
    await expect(pgRole({ query: async () => [] })).rejects.toThrow(/no row/);
  });
});
