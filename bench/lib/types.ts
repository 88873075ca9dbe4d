/** One row of the benchmark table. */
export interface BenchResult {
  /** Scenario, e.g. 'acquire-release', 'postgres-select1'. */
  scenario: string;
  /** Contender, e.g. 'cistern', 'generic-pool', 'pg.Pool'. */
  subject: string;
  /** Parameters that distinguish rows, e.g. { callers: 64 }. */
  params: Record<string, number | string>;
  /** Main figure and its unit, e.g. 0.08 'µs/op' or 41000 'ops/s'. */
  value: number;
  unit: string;
  /** Optional extra figures: p50Ms, p99Ms, bytesPerWaiter, ... */
  extra?: Record<string, number>;
  /**
   * What the row is, for ratio lines and charts. Default from the name (see
   * bench/lib/roles.ts): 'cistern…' is cistern, '…floor…' or 'bare' a floor,
   * '…reference…' a reference (e.g. pgbench), anything else a peer pool.
   */
  role?: SubjectRole;
  /**
   * The floor this row is compared with (`vsFloor`, the README's ratio line): the subject
   * name of a floor row of the same group, for a table with one floor per driver (the
   * postgres table has a floor over postgres.js and one over pg). Default: the fastest
   * floor of the group.
   */
  floor?: string;
}

export type SubjectRole = 'cistern' | 'peer' | 'floor' | 'reference';

export interface BenchContext {
  /** Short run (CI smoke / --quick): fewer repetitions, shorter durations. */
  quick: boolean;
  /** Print a progress line (overwritten in place on a TTY; the runner adds the ETA). */
  progress(message: string): void;
}

/** One row's worth of an isolated measurement (the runner adds scenario, subject, params). */
export interface BenchSample {
  value: number;
  unit: string;
  extra?: Record<string, number>;
}

/** A row of an isolated scenario: one table (`scenario`), its parameters, its subjects. */
export interface BenchCase {
  /** The table the rows go to, e.g. 'postgres-select1'. */
  scenario: string;
  params: Record<string, number | string>;
  /** The subjects measured in this case; default: all of `subjects`. */
  subjects?: readonly string[];
}

export interface MeasureContext extends BenchContext {
  /** What `setup` returned as `data` (JSON), e.g. the URL of a test server. */
  data: unknown;
  /** Repetition (0-based) this measurement belongs to. */
  repetition: number;
}

/**
 * Measured subject by subject, each measurement in a fresh child process, so no
 * subject inherits another's JIT feedback, heap or sockets (order cannot matter).
 * The runner interleaves: every repetition measures each subject of a case once,
 * in an order rotated per repetition; the row is the median, with the spread and
 * ratio lines (`vsFloor`, `vsBestPeer`) added by the runner.
 */
export interface IsolatedBench {
  /** Every subject's name, in table order. */
  subjects: readonly string[];
  /** Subject -> the floor subject its rows are compared with (`BenchResult.floor`); default the fastest floor. */
  floorOf?: Readonly<Record<string, string>>;
  /** The rows to measure; must be the same list every time it is called with the same `quick`. */
  cases(quick: boolean): readonly BenchCase[];
  repetitions(quick: boolean): number;
  /** Expected wall time of one `measure` (open, warm up, measure, close), for the plan and ETA. */
  measureMs(quick: boolean): number;
  /**
   * In the runner's process, once before the measurements (e.g. start a test server, seed
   * data): `data` is handed to every measurement as JSON; `teardown` runs after the last.
   */
  setup?(quick: boolean): Promise<{ data?: unknown; teardown(): Promise<void> }>;
  /** Runs in a fresh child process: open the subject, warm up, measure, close. */
  measure(c: BenchCase, subject: string, ctx: MeasureContext): Promise<BenchSample>;
  /** Rows measured once in the runner's process after the others (e.g. pgbench as a C reference). */
  references?(ctx: BenchContext): Promise<BenchResult[]>;
}

/**
 * Every `bench/*.bench.ts` file default-exports one of these; `bench/run.ts` runs them all.
 * Give either `isolated` (preferred: one fresh process per measurement) or `run` (the
 * whole scenario in one fresh process, for scenarios that must share a process, such
 * as multi-pool, or that interleave in-process on purpose).
 */
export interface BenchScenario {
  name: string;
  /** Resolve a reason string to skip (e.g. 'PostgreSQL not reachable'), or undefined to run. */
  skip?(): Promise<string | undefined>;
  isolated?: IsolatedBench;
  run?(ctx: BenchContext): Promise<BenchResult[]>;
  /**
   * Expected wall time of `run` in ms, for the plan and ETA. Without it the runner uses
   * the scenario's duration in the last full run (bench/results/latest.json), if any.
   */
  estimateMs?(quick: boolean): number;
}
