/**
 * postgres.js's `Query` class must be optimizable (issue 11): it extends Promise and has a
 * static `[Symbol.species]` getter, so V8 keeps its constructor function in dictionary mode,
 * and every optimization of `Query` was thrown away ("dependency change"). The driver gives
 * the class fast properties once (`fastenQueryClass`). Asserted on the cause, not on time:
 * `%OptimizeFunctionOnNextCall` in a child run with `--allow-natives-syntax`.
 */
import { describe, expect, it } from 'vitest';
import { queryClassState } from '../support/query-class.js';

describe("postgres.js's Query class", () => {
  it('fastenQueryClass gives it fast properties, and V8 then optimizes its constructor', () => {
    const state = queryClassState('fasten');
    expect(state.fastAfter).toBe(true);
    expect(state.optimized, `optimization status ${state.status}`).toBe(true);
  });

  it('without it nothing changes the class (so the optimization above is its doing)', () => {
    const state = queryClassState('plain');
    expect(state.fastAfter).toBe(state.fastBefore);
    // on Node 20 and 24 (measured 2026-12-07) the class is in dictionary mode and never optimizes
    if (!state.fastBefore) expect(state.optimized, `optimization status ${state.status}`).toBe(false);
  }, 60_000);
});
