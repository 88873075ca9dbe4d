import { afterEach, describe, expect, it } from 'vitest';
import { closeClusters, fakeRole, hostOf, makeCluster } from '../support/cluster-fakes.js';
import { settle, tick, useFakeClock } from '../support/pool-harness.js';

useFakeClock();
afterEach(closeClusters);

describe('cluster: following a promotion (roles)', () => {
  it('without roles, writes stay on the configured primary and fail while it is down', async () => {
    const { cluster, primary } = makeCluster(1, { acquireTimeoutMs: 1000 });
    primary.down();
    await expect(cluster.use(() => 1)).rejects.toMatchObject({ code: 'CONNECT_FAILED' });
    expect(cluster.stats().primary).toBe('c/primary');
  });

  it('a configured primary that is really a replica is found out at start', async () => {
    const { cluster, primary, replicas, events } = makeCluster(1, { roles: fakeRole });
    primary.role = 'replica';
    replicas[0]!.role = 'primary';
    // the start-up probe runs at once
    await tick(0);
    await tick(200);
    expect(cluster.stats().primary).toBe('c/replica-0');
    expect(await cluster.use((c) => hostOf(c))).toBe('r0');
    expect(await cluster.read((c) => hostOf(c))).toBe('p');
    expect(events.filter((e) => e.event === 'primaryChange').map((e) => e.payload)).toEqual([
      { previous: 'c/primary', current: 'c/replica-0' },
    ]);
  });

  it('primary dies, replica promoted: waiting writes settle on the new primary, in-flight ones get their error once', async () => {
    const { cluster, primary, replicas, events } = makeCluster(1, {
      roles: fakeRole,
      acquireTimeoutMs: 10_000,
      healthCheckIntervalMs: 0,
    });
    await tick(0);
    expect(await cluster.use((c) => hostOf(c))).toBe('p');
    // a write in flight when the primary dies
    let inflightRuns = 0;
    const inflight = settle(
      cluster.use(async (c) => {
        inflightRuns++;
        await tick(0);
        if (c.dead) throw new Error('connection terminated');
        return 'unexpected';
      }),
    );
    primary.down();
    await tick(0);
    // writes arriving during the failover wait
    const writes = Array.from({ length: 5 }, () => settle(cluster.use((c) => hostOf(c))));
    await tick(500);
    expect(writes.every((w) => w.state === 'pending')).toBe(true);
    expect(cluster.stats().primary).toBeUndefined();
    // reads keep going to the replica meanwhile
    expect(await cluster.read((c) => hostOf(c))).toBe('r0');
    // promotion
    replicas[0]!.role = 'primary';
    await tick(1000); // the discovery loop probes at most 1 s apart
    expect(writes.map((w) => w.value)).toEqual(['r0', 'r0', 'r0', 'r0', 'r0']);
    expect(inflight.state).toBe('rejected');
    expect(inflightRuns).toBe(1);
    expect(cluster.stats().primary).toBe('c/replica-0');
    const changes = events.filter((e) => e.event === 'primaryChange').map((e) => e.payload);
    expect(changes).toEqual([
      { previous: 'c/primary', current: undefined },
      { previous: undefined, current: 'c/replica-0' },
    ]);
    // the old primary stays out; reads now go to the new primary (no replica left)
    expect(await cluster.read((c) => hostOf(c))).toBe('r0');
  });

  it('no primary within the acquire timeout: PoolTimeoutError naming each member', async () => {
    const { cluster, primary } = makeCluster(1, { roles: fakeRole, acquireTimeoutMs: 2000 });
    await tick(0);
    primary.down();
    const write = settle(cluster.use(() => 1));
    await tick(2100);
    expect(write.state).toBe('rejected');
    expect(write.error).toMatchObject({ code: 'POOL_TIMEOUT' });
    expect((write.error as Error).message).toMatch(
      /no primary found in cluster 'c'.*c\/primary: down \(.*ECONNREFUSED p.*c\/replica-0: replica/,
    );
  });

  it('an aborted write waiting for a primary rejects with the signal reason', async () => {
    const { cluster, primary } = makeCluster(1, { roles: fakeRole });
    await tick(0);
    primary.down();
    const ac = new AbortController();
    const write = settle(cluster.use(() => 1, { signal: ac.signal }));
    await tick(300);
    expect(write.state).toBe('pending');
    ac.abort(new Error('caller gave up'));
    await tick(0);
    expect(write.error).toMatchObject({ message: 'caller gave up' });
  });

  it('the old primary back as a standby joins the replicas', async () => {
    const { cluster, primary, replicas, events } = makeCluster(1, {
      roles: fakeRole,
      retryInitialMs: 500,
      retryMaxMs: 500,
    });
    await tick(0);
    primary.down();
    replicas[0]!.role = 'primary';
    await expect(cluster.use((c) => hostOf(c))).resolves.toBe('r0');
    primary.role = 'replica';
    primary.up();
    await tick(1000);
    expect(events.filter((e) => e.event === 'memberUp').map((e) => e.payload)).toEqual([
      { member: 'c/primary' },
    ]);
    expect(await cluster.read((c) => hostOf(c))).toBe('p');
    expect(cluster.stats().members.map((m) => [m.name, m.role, m.healthy])).toEqual([
      ['c/primary', 'replica', true],
      ['c/replica-0', 'primary', true],
    ]);
  });

  it('a switchover seen by the health check (primary demoted, replica promoted) moves writes', async () => {
    const { cluster, primary, replicas } = makeCluster(1, { roles: fakeRole, healthCheckIntervalMs: 1000 });
    await tick(0);
    expect(await cluster.use((c) => hostOf(c))).toBe('p');
    primary.role = 'replica';
    replicas[0]!.role = 'primary';
    await tick(1100);
    expect(cluster.stats().primary).toBe('c/replica-0');
    expect(await cluster.use((c) => hostOf(c))).toBe('r0');
    expect(await cluster.read((c) => hostOf(c))).toBe('p');
  });
});
