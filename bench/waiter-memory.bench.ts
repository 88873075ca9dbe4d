/**
 * Memory per waiting caller: with the pool exhausted (all 10 held), start N
 * acquire calls, collect garbage, and divide the heap growth by N. The
 * promises are stored in an array allocated before the baseline, so what is
 * counted is the promise each caller holds plus whatever the pool keeps per
 * waiter (queue slot, closures, timers). Then everything is released and every
 * waiter must be served.
 */
import { contenders } from './lib/contenders.js';
import { getGc, settledHeapUsed } from './lib/gc.js';
import { openContenders } from './lib/open-contenders.js';
import { median, round } from './lib/stats.js';
import type { BenchContext, BenchResult, BenchScenario } from './lib/types.js';

const POOL_SIZE = 10;
const SETTLE_TIMEOUT_MS = 20_000;

const scenario: BenchScenario = {
  name: 'waiter-memory',
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const waiters = ctx.quick ? 5000 : 20_000;
    const repetitions = ctx.quick ? 1 : 3;
    const gc = getGc();
    const samples = new Map<string, number[]>();

    for (let rep = 0; rep < repetitions; rep++) {
      const opened = await openContenders(contenders, POOL_SIZE);
      for (const pool of opened) {
        ctx.progress(`repetition ${rep + 1}/${repetitions} ${pool.name}: ${waiters} waiters`);
        const held: unknown[] = [];
        for (let i = 0; i < POOL_SIZE; i++) held.push(await pool.acquire());
        await new Promise((resolve) => setImmediate(resolve));

        const pending: Promise<unknown>[] = new Array(waiters).fill(undefined);
        const before = settledHeapUsed(gc);
        for (let i = 0; i < waiters; i++) pending[i] = pool.acquire();
        const after = settledHeapUsed(gc);
        const list = samples.get(pool.name) ?? [];
        list.push((after - before) / waiters);
        samples.set(pool.name, list);

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
      }
    }

    const genericPool = samples.get('generic-pool');
    const gpBytes = genericPool ? median(genericPool) : undefined;
    return [...samples].map(([subject, list]) => {
      const bytes = median(list);
      const extra: Record<string, number> = {
        minBytes: round(Math.min(...list)),
        maxBytes: round(Math.max(...list)),
      };
      if (gpBytes !== undefined) extra.vsGenericPool = round(bytes / gpBytes);
      return {
        scenario: 'waiter-memory',
        subject,
        params: { waiters, size: POOL_SIZE },
        value: Math.round(bytes),
        unit: 'bytes/waiter',
        extra,
      };
    });
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
