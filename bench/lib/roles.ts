import { median } from './stats.js';
import type { BenchResult, SubjectRole } from './types.js';

/** A row's role: explicit, or read from its subject's name. */
export function roleOf(r: Pick<BenchResult, 'subject' | 'role'>): SubjectRole {
  if (r.role) return r.role;
  const s = r.subject.toLowerCase();
  if (s.includes('reference')) return 'reference';
  if (s.includes('floor') || s === 'bare') return 'floor';
  if (s.startsWith('cistern')) return 'cistern';
  return 'peer';
}

/** Throughput-like units ('ops/s') are better when higher; times, bytes and CPU when lower. */
export function higherIsBetter(unit: string): boolean {
  return /\/s$/.test(unit);
}

/** How much faster `value` is than `baseline` (> 1: faster), whatever the unit's direction. */
export function speedRatio(value: number, baseline: number, unit: string): number {
  return higherIsBetter(unit) ? value / baseline : baseline / value;
}

/**
 * `xs` relative to `ys` (speed, > 1 faster), measured in the same repetitions: the median
 * over repetitions of the ratio within each repetition (bench/README.md, "paired").
 */
export function pairedSpeedRatio(xs: readonly number[], ys: readonly number[], unit: string): number {
  if (xs.length === 0 || xs.length !== ys.length) {
    throw new RangeError(
      `pairedSpeedRatio: ${xs.length} and ${ys.length} repetitions, expected the same (>= 1)`,
    );
  }
  return median(xs.map((x, i) => speedRatio(x, ys[i]!, unit)));
}

/**
 * The floor `r` is compared with among `rows` (its comparison group): the row its `floor`
 * names, else the fastest floor; undefined without one, and for a floor row itself.
 */
export function floorFor(r: BenchResult, rows: readonly BenchResult[]): BenchResult | undefined {
  if (roleOf(r) === 'floor' || roleOf(r) === 'reference') return undefined;
  const floors = rows.filter((x) => roleOf(x) === 'floor' && Number.isFinite(x.value) && x.value > 0);
  if (r.floor !== undefined) {
    const named = floors.find((x) => x.subject === r.floor);
    if (named !== undefined) return named;
  }
  return floors.length > 0 ? baselineOf(floors) : undefined;
}

/** The rows of one table that share every parameter: one comparison group. */
export function groupKey(r: BenchResult): string {
  return JSON.stringify(Object.entries(r.params).filter(([, v]) => v !== undefined));
}

/**
 * The baseline of a comparison group: the best peer; without a peer, the floor; else
 * the first row. Reference rows (other tools, e.g. pgbench) are never the baseline.
 */
export function baselineOf(rows: readonly BenchResult[]): BenchResult | undefined {
  const candidates = rows.filter((r) => roleOf(r) !== 'reference' && Number.isFinite(r.value) && r.value > 0);
  const unit = candidates[0]?.unit ?? '';
  const best = (list: BenchResult[]) =>
    list.reduce<BenchResult | undefined>(
      (b, r) => (b === undefined || speedRatio(r.value, b.value, unit) > 1 ? r : b),
      undefined,
    );
  return (
    best(candidates.filter((r) => roleOf(r) === 'peer')) ??
    best(candidates.filter((r) => roleOf(r) === 'floor')) ??
    candidates[0]
  );
}
