/**
 * An isolated closed-loop benchmark (the shape of the database scenarios): each
 * measurement opens one subject in a fresh process, warms it up, runs `callers`
 * loops of one query until the deadline, and closes it. The sample is ops/s with
 * the latency percentiles and the process's CPU time per query (user + system µs:
 * the client-side cost, since the process runs nothing else).
 *
 * ```ts
 * export default {
 *   name: 'mariadb',
 *   skip: ...,
 *   isolated: loadBench({ subjects, cases, durationMs: (q) => (q ? 2000 : 10_000), warmMs: ... }),
 * } satisfies BenchScenario;
 * ```
 */
import { closedLoop } from './closed-loop.js';
import { getGc } from './gc.js';
import { round } from './stats.js';
import type { BenchCase, BenchContext, BenchResult, IsolatedBench, MeasureContext } from './types.js';

export interface OpenedSubject<Q> {
  /** One operation for `caller` (0..callers-1). */
  query(q: Q, caller: number): PromiseLike<unknown>;
  close(): Promise<void>;
}

export interface LoadSubject<Q> {
  name: string;
  /** The floor subject this one is compared with, when the table has one floor per driver. */
  floor?: string;
  /** `data` is what the scenario's `setup` returned (e.g. a test server's URL). */
  open(data: unknown): Promise<OpenedSubject<Q>>;
}

export interface LoadCase<Q> extends BenchCase {
  callers: number;
  query: Q;
}

export interface LoadBenchSpec<Q> {
  subjects: readonly LoadSubject<Q>[];
  cases: readonly LoadCase<Q>[];
  durationMs(quick: boolean): number;
  warmMs(quick: boolean): number;
  /** Default: 3 full, 1 quick. */
  repetitions?(quick: boolean): number;
  setup?: IsolatedBench['setup'];
  references?(ctx: BenchContext): Promise<BenchResult[]>;
}

/** Expected time to open and close a subject of a database scenario (10 connections). */
const OPEN_CLOSE_MS = 700;

export function loadBench<Q>(spec: LoadBenchSpec<Q>): IsolatedBench {
  return {
    subjects: spec.subjects.map((s) => s.name),
    floorOf: Object.fromEntries(
      spec.subjects.flatMap((s) => (s.floor === undefined ? [] : [[s.name, s.floor]])),
    ),
    cases: () => spec.cases,
    repetitions: spec.repetitions ?? ((quick) => (quick ? 1 : 3)),
    measureMs: (quick) => spec.durationMs(quick) + spec.warmMs(quick) + OPEN_CLOSE_MS,
    setup: spec.setup,
    references: spec.references,
    async measure(c, subjectName, ctx: MeasureContext) {
      const lc = c as LoadCase<Q>;
      const subject = spec.subjects.find((s) => s.name === subjectName);
      if (!subject) throw new RangeError(`no subject '${subjectName}'`);
      ctx.progress('opening');
      const opened = await subject.open(ctx.data);
      try {
        const describe = `${subjectName} ${Object.values(c.params).join(' ')}`;
        // The full collection comes before the warm-up, not between it and the measurement:
        // V8 state that a GC with nothing in flight leaves behind is then re-warmed under load
        // before anything is measured. Measured after such a GC, the table once showed a V8
        // pathology instead of the pools (postgres.js's Query, which V8 could not optimize:
        // docs/postgres.md, "postgres.js's `Query` and V8").
        getGc()();
        ctx.progress('warming up');
        await closedLoop(lc.callers, spec.warmMs(ctx.quick), (i) => opened.query(lc.query, i), describe);
        ctx.progress('measuring');
        const sample = await closedLoop(
          lc.callers,
          spec.durationMs(ctx.quick),
          (i) => opened.query(lc.query, i),
          describe,
        );
        return {
          value: round(sample.opsPerSec),
          unit: 'ops/s',
          extra: {
            p50Ms: round(sample.p50Ms),
            p99Ms: round(sample.p99Ms),
            cpuUsPerOp: round(sample.cpuUsPerOp),
          },
        };
      } finally {
        await opened.close();
      }
    },
  };
}
