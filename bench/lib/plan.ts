/**
 * The plan printed before a run, and the ETA in its progress line: each step has an
 * expected duration; the ETA is what remains, scaled by how the finished steps
 * compared with their estimates (a loaded machine runs everything slower).
 */
export interface PlanStep {
  label: string;
  expectedMs: number;
}

/**
 * A process start with tsx, the scenario's imports and a clean exit. Measured 2026-12-07
 * (2 cores, Node 20): 0.3-0.4 s per measurement beyond its own `measureMs` (the 3 s this
 * was before made the plan of a full postgres run 16 min for 10).
 */
export const CHILD_OVERHEAD_MS = 500;

export class Eta {
  #doneExpected = 0;
  #doneActual = 0;
  #remaining: number;
  readonly #started = performance.now();
  #stepStarted = performance.now();
  #stepExpected = 0;

  constructor(readonly totalExpectedMs: number) {
    this.#remaining = totalExpectedMs;
  }

  begin(expectedMs: number): void {
    this.#stepStarted = performance.now();
    this.#stepExpected = expectedMs;
  }

  end(): void {
    this.#doneExpected += this.#stepExpected;
    this.#doneActual += performance.now() - this.#stepStarted;
    this.#remaining = Math.max(0, this.#remaining - this.#stepExpected);
    this.#stepExpected = 0;
  }

  /** A step that will not run (skipped or failed early): drop its time from what remains. */
  drop(expectedMs: number): void {
    this.#remaining = Math.max(0, this.#remaining - expectedMs);
  }

  /** `elapsed 1m02s · ETA 4m10s`. */
  text(): string {
    const pace = this.#doneExpected > 0 ? this.#doneActual / this.#doneExpected : 1;
    const inStep = performance.now() - this.#stepStarted;
    const left = Math.max(
      0,
      (this.#remaining - this.#stepExpected) * pace + Math.max(0, this.#stepExpected * pace - inStep),
    );
    return `elapsed ${duration(performance.now() - this.#started)} · ETA ${duration(left)}`;
  }
}

export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60
    ? `${m}m${String(s % 60).padStart(2, '0')}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
