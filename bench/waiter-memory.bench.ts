/**
 * Memory per waiting caller: with the pool exhausted (all 10 held), start N
 * acquire calls, collect garbage, and divide the heap growth by N. The
 * promises are stored in an array allocated before the baseline, so what is
 * counted is the promise each caller holds plus whatever the pool keeps per
 * waiter (queue slot, closures, timers). Then everything is released and every
 * waiter must be served.
 *
 * Each measurement (one contender) runs in a fresh process (`isolated`), interleaved
 * over the repetitions (3; --quick 1): when the contenders shared a process, the
 * cistern/pg face ran cistern's `Pool` over a second resource type before cistern
 * was measured, and cistern's figure read 341 bytes instead of 326.
 */
import { contenders } from './lib/contenders.js';
import { getGc, settledHeapUsed } from './lib/gc.js';
import { openContender } from './lib/open-contenders.js';
import type { BenchSample, BenchScenario } from './lib/types.js';

const POOL_SIZE = 10;
const SETTLE_TIMEOUT_MS = 20_000;
const waitersFor = (quick: boolean): number => (quick ? 5000 : 20_000);

const scenario: BenchScenario = {
  name: 'waiter-memory',
  isolated: {
    subjects: contenders.map((c) => c.name),
    cases: (quick) => [
      { scenario: 'waiter-memory', params: { waiters: waitersFor(quick), size: POOL_SIZE } },
    ],
    repetitions: (quick) => (quick ? 1 : 3),
    measureMs: (quick) => (quick ? 300 : 1000),
    async measure(c, subject, ctx): Promise<BenchSample> {
      const waiters = c.params.waiters as number;
      const pool = await openContender(contenders, subject, POOL_SIZE);
      const gc = getGc();
      ctx.progress(`${waiters} waiters`);
      const held: unknown[] = [];
      for (let i = 0; i < POOL_SIZE; i++) held.push(await pool.acquire());
      await new Promise((resolve) => setImmediate(resolve));

      const pending: Promise<unknown>[] = new Array(waiters).fill(undefined);
      const before = settledHeapUsed(gc);
      for (let i = 0; i < waiters; i++) pending[i] = pool.acquire();
      const after = settledHeapUsed(gc);

      // Every waiter must be served once the held resources come back.
      let served = 0;
      const done = pending.map((p) =>
        p.then((conn) => {
          served++;
          pool.release(conn);
        }),
      );
      for (const conn of held) pool.release(conn);
      await settleWithin(Promise.all(done), SETTLE_TIMEOUT_MS, `${pool.name}: ${served}/${waiters} served`);
      if (served !== waiters) throw new Error(`${pool.name}: only ${served} of ${waiters} waiters served`);
      await pool.close();
      return { value: Math.round((after - before) / waiters), unit: 'bytes/waiter' };
    },
  },
};

function settleWithin(promise: Promise<unknown>, ms: number, what: string): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`waiters did not settle within ${ms} ms (${what})`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export default scenario;
