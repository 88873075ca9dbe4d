import { afterEach, describe, expect, it, vi } from 'vitest';
import { closeClusters, hostOf, makeCluster } from '../support/cluster-fakes.js';
import { settle, tick, useFakeClock } from '../support/pool-harness.js';

useFakeClock();
afterEach(closeClusters);

describe('cluster replica health', () => {
  it('a replica whose connect fails is taken out; its read goes to another replica, never twice to the dead one', async () => {
    const { cluster, replicas, events } = makeCluster(2, { retryInitialMs: 1000 });
    replicas[0]!.down();
    let runs = 0;
    const host = await cluster.read((c) => {
      runs++;
      return hostOf(c);
    });
    expect(host).toBe('r1');
    expect(runs).toBe(1);
    expect(events.filter((e) => e.event === 'memberDown').map((e) => e.payload)).toEqual([
      {
        member: 'c/replica-0',
        error: expect.objectContaining({ code: 'CONNECT_FAILED' }),
        retryInMs: expect.any(Number),
      },
    ]);
    expect(cluster.stats().members[1]!.healthy).toBe(false);
    // while down, every read goes to r1
    for (let i = 0; i < 5; i++) expect(await cluster.read((c) => hostOf(c))).toBe('r1');
  });

  it('reads fall back to the primary when no replica is healthy, and return to a replica that recovers (with backoff)', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5); // jitter factor exactly 1
    const { cluster, replicas, events } = makeCluster(1, { retryInitialMs: 1000, retryMaxMs: 8000 });
    replicas[0]!.down();
    expect(await cluster.read((c) => hostOf(c))).toBe('p');
    const down = events.find((e) => e.event === 'memberDown')!.payload as { retryInMs: number };
    expect(down.retryInMs).toBe(1000);
    // the first retry (t=1000) fails: the next one waits twice as long (t=3000)
    await tick(1250);
    expect(events.filter((e) => e.event === 'memberUp')).toHaveLength(0);
    expect(await cluster.read((c) => hostOf(c))).toBe('p');
    replicas[0]!.up();
    await tick(1400); // t=2650: not yet
    expect(cluster.stats().members[1]!.healthy).toBe(false);
    await tick(2600);
    expect(events.filter((e) => e.event === 'memberUp').map((e) => e.payload)).toEqual([
      { member: 'c/replica-0' },
    ]);
    expect(await cluster.read((c) => hostOf(c))).toBe('r0');
  });

  it('readFallback "error": no healthy replica is a ConnectError naming each replica and why', async () => {
    const { cluster, replicas } = makeCluster(1, { readFallback: 'error' });
    replicas[0]!.down();
    const error = await cluster.read(() => 1).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONNECT_FAILED' });
    expect((error as Error).message).toMatch(
      /no healthy replica in cluster 'c'.*c\/replica-0: down \(.*ECONNREFUSED r0/,
    );
  });

  it('the periodic health ping takes out a replica whose ping fails', async () => {
    const { cluster, replicas, events } = makeCluster(1, {
      healthCheckIntervalMs: 1000,
      probeTimeoutMs: 500,
    });
    expect(await cluster.read((c) => hostOf(c))).toBe('r0');
    replicas[0]!.controls.pingResult = 'hang';
    await tick(1000); // health check: the ping hangs
    await tick(500); // ... and times out
    expect(events.map((e) => e.event)).toContain('memberDown');
    expect(cluster.stats().members[1]!.healthy).toBe(false);
    expect(await cluster.read((c) => hostOf(c))).toBe('p');
  });

  it('callers waiting for a replica that goes down are sent elsewhere', async () => {
    const { cluster, replicas } = makeCluster(1, {
      size: 1,
      maxOverflow: 0,
      retryInitialMs: 60_000,
      retryMaxMs: 60_000,
    });
    let release!: () => void;
    const holding = cluster.read(() => new Promise<void>((r) => (release = r)));
    await tick(0);
    const waiting = settle(cluster.read((c) => hostOf(c)));
    await tick(0);
    expect(waiting.state).toBe('pending');
    replicas[0]!.down(); // the server dies: the held connection with it
    release(); // its holder finishes; the waiter's connect to r0 is refused
    await holding;
    await tick(100);
    expect(waiting.state).toBe('fulfilled');
    expect(waiting.value).toBe('p');
    expect(cluster.stats().members[1]!.healthy).toBe(false);
  });

  it('timers stop with close: no retry or health timer is left behind', async () => {
    const { cluster, replicas } = makeCluster(2, { healthCheckIntervalMs: 1000 });
    replicas[0]!.down();
    await cluster.read(() => 1);
    await cluster.close();
    expect(cluster.closed).toBe(true);
    const before = replicas[0]!.connectAttempts + replicas[1]!.connectAttempts;
    await tick(120_000);
    expect(replicas[0]!.connectAttempts + replicas[1]!.connectAttempts).toBe(before);
  });
});
