/**
 * acquire + release round trips on a pool of 10 in-memory resources, at 1, 16,
 * 256 and 4096 concurrent callers. Each caller loops
 * `const c = await pool.acquire(); pool.release(c)`.
 *
 * Contenders: a bare free-list pool (the floor), cistern with every feature on,
 * generic-pool, tarn, pg-pool (with an in-memory pg Client). All run in one
 * process, interleaved: every repetition measures each contender once, in an
 * order rotated per repetition, after a full GC. The figure is the median
 * µs/op over the repetitions; each measurement is sized by a warm-up
 * calibration to last about 150 ms (40 ms with --quick).
 */
import { type Contender, contenders } from './lib/contenders.js';
import { getGc } from './lib/gc.js';
import { openContenders } from './lib/open-contenders.js';
import { median, round } from './lib/stats.js';
import type { BenchContext, BenchResult, BenchScenario } from './lib/types.js';

export const CALLERS = [1, 16, 256, 4096] as const;
const POOL_SIZE = 10;

interface Subject {
  contender: Contender;
  opsPerCaller: number;
  samples: number[];
}

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
  // 4 caller counts × 5 contenders × (calibration + repetitions)
  estimateMs: (quick) => (quick ? 10_000 : 35_000),
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const repetitions = ctx.quick ? 3 : 5;
    const targetMs = ctx.quick ? 40 : 150;
    const warmMs = ctx.quick ? 150 : 400;
    const gc = getGc();
    const results: BenchResult[] = [];

    for (const callers of CALLERS) {
      const opened = await openContenders(contenders, POOL_SIZE);
      const subjects: Subject[] = [];
      for (const contender of opened) {
        ctx.progress(`${callers} callers: warming up ${contender.name}`);
        subjects.push({
          contender,
          opsPerCaller: await calibrate(contender, callers, targetMs, warmMs),
          samples: [],
        });
      }
      for (let rep = 0; rep < repetitions; rep++) {
        for (let k = 0; k < subjects.length; k++) {
          const s = subjects[(k + rep) % subjects.length];
          ctx.progress(`${callers} callers: repetition ${rep + 1}/${repetitions} ${s.contender.name}`);
          gc();
          const ms = await timeRun(s.contender, callers, s.opsPerCaller);
          s.samples.push((ms * 1000) / (callers * s.opsPerCaller));
        }
      }
      for (const s of subjects) await s.contender.close();

      const medianOf = (name: string) => {
        const s = subjects.find((x) => x.contender.name === name);
        return s ? median(s.samples) : undefined;
      };
      const genericPool = medianOf('generic-pool');
      const bare = medianOf('bare');
      for (const s of subjects) {
        const us = median(s.samples);
        const extra: Record<string, number> = {
          minUs: round(Math.min(...s.samples)),
          maxUs: round(Math.max(...s.samples)),
          opsPerRun: callers * s.opsPerCaller,
        };
        if (genericPool !== undefined) extra.vsGenericPool = round(us / genericPool);
        if (bare !== undefined) extra.vsBare = round(us / bare);
        results.push({
          scenario: 'acquire-release',
          subject: s.contender.name,
          params: { callers, size: POOL_SIZE },
          value: round(us),
          unit: 'µs/op',
          extra,
        });
      }
    }
    return results;
  },
};

export default scenario;
