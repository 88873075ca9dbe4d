/**
 * acquire + release round trips on a pool of 10 in-memory resources, at 1, 16,
 * 256 and 4096 concurrent callers. Each caller loops
 * `const c = await pool.acquire(); pool.release(c)`.
 *
 * Contenders: a bare free-list pool (the floor), cistern with every feature on,
 * generic-pool, tarn, pg-pool (with an in-memory pg Client), the cistern/pg Pool
 * face. Each measurement (one contender at one caller count) runs in a fresh
 * process (`isolated`), interleaved: every repetition measures each contender
 * once, in an order rotated per repetition, so no contender runs on JIT feedback
 * another left (when they shared a process, the cistern/pg face ran cistern's
 * `Pool` class over a second resource type before cistern was measured). In the
 * process: a warm-up calibration sizes a run to about 150 ms (40 ms with
 * --quick), then three runs, each after a full GC; the sample is their median
 * µs/op. The row is the median over the repetitions (5; --quick 3), with the
 * runner's paired `vsFloor` and `vsBestPeer`.
 */
import { type Contender, contenders } from './lib/contenders.js';
import { getGc } from './lib/gc.js';
import { openContender } from './lib/open-contenders.js';
import { median, round } from './lib/stats.js';
import type { BenchSample, BenchScenario } from './lib/types.js';

export const CALLERS = [1, 16, 256, 4096] as const;
const POOL_SIZE = 10;

/** Timed runs per measurement, after the calibration; the sample is their median. */
const RUNS = 3;

async function timeRun(contender: Contender, callers: number, opsPerCaller: number): Promise<number> {
  const t0 = performance.now();
  await contender.run(callers, opsPerCaller);
  return performance.now() - t0;
}

/**
 * Warm up (JIT, pool state) for at least `warmMs`, growing the op count until one
 * run lasts a quarter of `targetMs`; then size the run to `targetMs`, check the
 * size once more at full speed, and return ops per caller.
 */
async function calibrate(
  contender: Contender,
  callers: number,
  targetMs: number,
  warmMs: number,
): Promise<number> {
  let ops = Math.max(2, Math.ceil(1000 / callers));
  let warmed = 0;
  for (;;) {
    const ms = await timeRun(contender, callers, ops);
    warmed += ms;
    if ((ms >= targetMs / 4 && warmed >= warmMs) || ops > 1e8) break;
    if (ms < targetMs / 4) ops *= ms < targetMs / 40 ? 8 : 2;
  }
  for (let i = 0; i < 2; i++) {
    const ms = await timeRun(contender, callers, ops);
    ops = Math.max(2, Math.round((ops * targetMs) / Math.max(ms, 0.001)));
  }
  return ops;
}

const scenario: BenchScenario = {
  name: 'acquire-release',
  isolated: {
    subjects: contenders.map((c) => c.name),
    cases: () =>
      CALLERS.map((callers) => ({ scenario: 'acquire-release', params: { callers, size: POOL_SIZE } })),
    repetitions: (quick) => (quick ? 3 : 5),
    // the calibration's warm-up and sizing runs, then RUNS timed runs
    measureMs: (quick) => (quick ? 150 + 6 * 40 : 400 + 6 * 150),
    async measure(c, subject, ctx): Promise<BenchSample> {
      const callers = c.params.callers as number;
      const contender = await openContender(contenders, subject, POOL_SIZE);
      try {
        const targetMs = ctx.quick ? 40 : 150;
        ctx.progress('warming up');
        const opsPerCaller = await calibrate(contender, callers, targetMs, ctx.quick ? 150 : 400);
        const gc = getGc();
        const samples: number[] = [];
        for (let i = 0; i < RUNS; i++) {
          ctx.progress(`run ${i + 1}/${RUNS}`);
          gc();
          const ms = await timeRun(contender, callers, opsPerCaller);
          samples.push((ms * 1000) / (callers * opsPerCaller));
        }
        return {
          value: round(median(samples)),
          unit: 'µs/op',
          extra: {
            minUs: round(Math.min(...samples)),
            maxUs: round(Math.max(...samples)),
            opsPerRun: callers * opsPerCaller,
          },
        };
      } finally {
        await contender.close();
      }
    },
  },
};

export default scenario;
