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
}

export interface BenchContext {
  /** Short run (CI smoke / --quick): fewer repetitions, shorter durations. */
  quick: boolean;
  /** Print a progress line (overwritten in place on a TTY). */
  progress(message: string): void;
}

/** Every `bench/*.bench.ts` file default-exports one of these; `bench/run.ts` runs them all. */
export interface BenchScenario {
  name: string;
  /** Resolve a reason string to skip (e.g. 'PostgreSQL not reachable'), or undefined to run. */
  skip?(): Promise<string | undefined>;
  run(ctx: BenchContext): Promise<BenchResult[]>;
}
