/**
 * The cluster's listener isolation (src/cluster/emitter.ts), as the pool's
 * (test/unit/pool-events.test.ts): a listener that throws, or an async listener whose
 * promise rejects, is reported once per listener through process.emitWarning and the
 * cluster carries on; nothing becomes an unhandled rejection.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { closeClusters, hostOf, makeCluster } from '../support/cluster-fakes.js';
import { tick, useFakeClock } from '../support/pool-harness.js';

useFakeClock();
afterEach(closeClusters);

/** Let every microtask and pending rejection run (Node reports an unhandled one after the microtask queue drains). */
async function drain(): Promise<void> {
  for (let i = 0; i < 3; i++) await tick(0);
}

describe('cluster listeners', () => {
  it('an async listener that rejects is isolated like a throwing one: reported once, the cluster carries on', async () => {
    const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const { cluster, replicas, events } = makeCluster(1, { retryInitialMs: 1000, retryMaxMs: 1000 });
      const downs: string[] = [];
      cluster.on('memberDown', async () => {
        throw new Error('async memberDown listener bug');
      });
      cluster.on('memberDown', async () => {
        await Promise.resolve();
        throw new Error('late async memberDown listener bug');
      });
      cluster.on('memberUp', () => {
        throw new Error('sync memberUp listener bug');
      });
      cluster.on('memberDown', ({ member }) => downs.push(member));

      // down, tried again and down again: the failing listeners run twice, are reported once each
      replicas[0]!.down();
      expect(await cluster.read((c) => hostOf(c))).toBe('p');
      await drain();
      await tick(1500);
      await drain();
      // the listener after the failing ones still ran, and the cluster still routes
      expect(downs.length).toBeGreaterThanOrEqual(1);
      expect(events.filter((e) => e.event === 'memberDown')).toHaveLength(downs.length);
      expect(await cluster.read((c) => hostOf(c))).toBe('p');
      replicas[0]!.up();
      await tick(1500);
      await drain();
      expect(events.filter((e) => e.event === 'memberUp')).toHaveLength(1);
      expect(await cluster.read((c) => hostOf(c))).toBe('r0');

      const messages = warning.mock.calls.map((call) => String(call[0]));
      expect(messages.filter((m) => m.includes("cluster 'memberDown' listener rejected"))).toHaveLength(2);
      expect(messages.filter((m) => m.includes("cluster 'memberUp' listener threw"))).toHaveLength(1);
      expect(messages.join('\n')).toContain('async memberDown listener bug');
      expect(messages.join('\n')).toContain('late async memberDown listener bug');
      for (const call of warning.mock.calls) {
        expect(call[1]).toMatchObject({ code: 'CISTERN_LISTENER_ERROR' });
      }
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });
});
