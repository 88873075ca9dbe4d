import { afterEach, describe, expect, it } from 'vitest';
import { closeClusters, hostOf, makeCluster } from '../support/cluster-fakes.js';
import { settle, tick, useFakeClock } from '../support/pool-harness.js';

useFakeClock();
afterEach(closeClusters);

describe('cluster routing', () => {
  it('use and transaction go to the primary, read to a replica', async () => {
    const { cluster } = makeCluster(1);
    expect(await cluster.use((c) => hostOf(c))).toBe('p');
    const tx = await cluster.transaction(async (c) => {
      c.log.push('work');
      return c;
    });
    expect(hostOf(tx)).toBe('p');
    expect(tx.log).toEqual(['BEGIN', 'work', 'COMMIT']);
    expect(await cluster.read((c) => hostOf(c))).toBe('r0');
  });

  it('read picks the replica with the least pending work', async () => {
    const { cluster } = makeCluster(2, { size: 1, maxOverflow: 0 });
    // hold r0's only connection, then queue one more caller on it
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const first = cluster.read(async (c) => {
      await held;
      return hostOf(c);
    });
    await tick(0);
    const hosts: string[] = [];
    hosts.push(await cluster.read((c) => hostOf(c)));
    expect(hosts).toEqual(['r1']);
    const stats = cluster.stats();
    expect(stats.members.map((m) => [m.name, m.used])).toEqual([
      ['c/primary', 0],
      ['c/replica-0', 1],
      ['c/replica-1', 0],
    ]);
    release();
    expect(await first).toBe('r0');
  });

  it('names each member pool <name>/<role>; stats are per member; events come from each pool', async () => {
    const { cluster } = makeCluster(2);
    expect(cluster.members().map((m) => m.name)).toEqual(['c/primary', 'c/replica-0', 'c/replica-1']);
    expect(cluster.members().map((m) => m.pool.name)).toEqual(['c/primary', 'c/replica-0', 'c/replica-1']);
    const seen: string[] = [];
    for (const m of cluster.members()) m.pool.on('checkout', () => seen.push(m.name));
    await cluster.use(() => 1);
    await cluster.read(() => 1);
    expect(seen).toEqual(['c/primary', 'c/replica-0']);
    const s = cluster.stats();
    expect(s.name).toBe('c');
    expect(s.primary).toBe('c/primary');
    expect(s.members.every((m) => m.healthy)).toBe(true);
    expect(s.members.map((m) => m.role)).toEqual(['primary', 'replica', 'replica']);
  });

  it('without replicas, read goes to the primary; readFallback "error" fails with a ConnectError instead', async () => {
    const { cluster } = makeCluster(0);
    expect(await cluster.read((c) => hostOf(c))).toBe('p');
    const strict = makeCluster(0, { readFallback: 'error' }).cluster;
    await expect(strict.read(() => 1)).rejects.toMatchObject({
      code: 'CONNECT_FAILED',
      message: expect.stringMatching(/no healthy replica in cluster 'c'.*none configured/),
    });
  });

  it('close closes every member pool; waiting and later calls fail with PoolClosedError', async () => {
    const { cluster, primary, replicas } = makeCluster(1, { size: 1, maxOverflow: 0 });
    let release!: () => void;
    const held = cluster.use(() => new Promise<void>((r) => (release = r)));
    await tick(0);
    const waiting = settle(cluster.use(() => 1));
    const closing = cluster.close({ timeoutMs: 1000 });
    await tick(0);
    expect(waiting.state).toBe('rejected');
    expect(waiting.error).toMatchObject({ code: 'POOL_CLOSED' });
    release();
    await held;
    await closing;
    expect(cluster.members().every((m) => m.pool.closed)).toBe(true);
    expect(primary.open.size + replicas[0]!.open.size).toBe(0);
    await expect(cluster.read(() => 1)).rejects.toMatchObject({ code: 'POOL_CLOSED' });
    await expect(cluster.close()).resolves.toBeUndefined();
  });

  it('a caller whose function ran gets its error and is never re-run elsewhere', async () => {
    const { cluster } = makeCluster(2);
    let runs = 0;
    await expect(
      cluster.read(() => {
        runs++;
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(runs).toBe(1);
  });
});
