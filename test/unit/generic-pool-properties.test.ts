// Random sequences of acquire (with priorities), release, destroy and time, run against
// both implementations: the pool's promises hold whatever the order of events.
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { flush, impls, settle, stopPool, useFakeClock, useRealClock } from '../support/generic-pool-impls.js';

type Op =
  | { kind: 'acquire'; priority: number }
  | { kind: 'release'; pick: number }
  | { kind: 'destroy'; pick: number }
  | { kind: 'wait'; ms: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('acquire' as const), priority: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('destroy' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 40 }) }),
);

describe.each(impls)('generic-pool invariants under random operations ($name)', (impl) => {
  beforeEach(() => {
    useFakeClock();
  });
  afterEach(() => {
    useRealClock();
  });

  it('never lends one resource twice, never exceeds max, settles every acquire, destroys all it created', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 2 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 20 }),
        async (ops, max, min, withTimeout, createDelayMs) => {
          let created = 0;
          let destroyed = 0;
          let failEvery = 0;
          const pool = impl.createPool(
            {
              create: () =>
                new Promise<{ id: number }>((resolve, reject) => {
                  // every fifth attempt fails: generic-pool and cistern both keep the caller waiting
                  if (++failEvery % 5 === 0) {
                    setTimeout(() => reject(new Error('create failed')), createDelayMs);
                    return;
                  }
                  const r = { id: created++ };
                  setTimeout(() => resolve(r), createDelayMs);
                }),
              destroy: () => {
                destroyed++;
                return Promise.resolve();
              },
            },
            { max, min, priorityRange: 3, acquireTimeoutMillis: withTimeout ? 100 : undefined },
          );
          pool.on('factoryCreateError', () => {});
          const held: { id: number }[] = [];
          const requests: ReturnType<typeof settle<{ id: number }>>[] = [];
          const lent = new Set<{ id: number }>();
          const track = (p: Promise<{ id: number }>) => {
            const record = settle(
              p.then((r) => {
                expect(lent.has(r)).toBe(false);
                lent.add(r);
                held.push(r);
                return r;
              }),
            );
            requests.push(record);
          };
          for (const o of ops) {
            if (o.kind === 'acquire') track(pool.acquire(o.priority));
            else if (o.kind === 'wait') await vi.advanceTimersByTimeAsync(o.ms);
            else if (held.length > 0) {
              const r = held.splice(o.pick % held.length, 1)[0];
              lent.delete(r);
              await (o.kind === 'release' ? pool.release(r) : pool.destroy(r));
            }
            await flush(2);
            expect(pool.size).toBeLessThanOrEqual(pool.max);
            expect(pool.borrowed).toBe(held.length);
          }
          // give everything back until every acquire has settled
          for (let round = 0; round < 200 && requests.some((r) => r.state === 'pending'); round++) {
            while (held.length > 0) {
              const r = held.pop()!;
              lent.delete(r);
              await pool.release(r);
            }
            await vi.advanceTimersByTimeAsync(50);
          }
          while (held.length > 0) await pool.release(held.pop()!);
          expect(requests.every((r) => r.state !== 'pending')).toBe(true);
          for (const r of requests) {
            if (r.state === 'rejected') expect(impl.isTimeoutError(r.error)).toBe(true);
          }
          expect(pool.pending).toBe(0);
          // cistern: no core acquire is left behind by the face (one per waiting request, no more)
          const core = (pool as { cistern?: { stats(): { pending: number } } }).cistern;
          if (core !== undefined) expect(core.stats().pending).toBe(0);
          await stopPool(pool);
          await flush();
          expect(destroyed).toBe(created);
        },
      ),
      { numRuns: 60 },
    );
  });
});
