import { describe, expect, it } from 'vitest';
import { BarePool } from '../../bench/lib/bare-pool.js';
import { pairedSpeedRatio } from '../../bench/lib/roles.js';
import { median } from '../../bench/lib/stats.js';
import { textTable } from '../../bench/lib/table.js';
import type { BenchResult } from '../../bench/lib/types.js';
import { renderSection, replaceSection } from '../../bench/readme-table.js';

describe('bench/lib/bare-pool (the benchmark floor)', () => {
  it('serves waiters in arrival order and never hands one resource to two holders', async () => {
    const pool = new BarePool([{ id: 1 }, { id: 2 }]);
    const a = await pool.acquire();
    const b = await pool.acquire();
    const order: number[] = [];
    const waiters = Array.from({ length: 40 }, (_, i) =>
      pool.acquire().then((r) => {
        order.push(i);
        return r;
      }),
    );
    expect(pool.waiting).toBe(40); // grows its ring past the initial 16 slots
    pool.release(a);
    pool.release(b);
    for (let i = 0; i < 40; i++) pool.release(await waiters[i]);
    expect(order).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(pool.waiting).toBe(0);
    const again = [await pool.acquire(), await pool.acquire()];
    expect(new Set(again.map((r) => r.id))).toEqual(new Set([1, 2]));
  });
});

describe('bench report helpers', () => {
  const rows: BenchResult[] = [1, 16].flatMap((callers) => [
    {
      scenario: 'acquire-release',
      subject: 'generic-pool',
      params: { callers },
      value: 0.4,
      unit: 'µs/op',
    },
    {
      scenario: 'acquire-release',
      subject: 'cistern',
      params: { callers },
      value: 0.1,
      unit: 'µs/op',
      extra: { vsBestPeer: 4 },
    },
  ]);

  it('median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('prints an aligned text table with params, value and extras', () => {
    const text = textTable(rows.slice(0, 2));
    expect(text.split('\n')[0]).toMatch(/^subject\s+callers\s+µs\/op\s+vsBestPeer$/);
    expect(text).toContain('cistern');
  });

  it('renders a subject x callers grid and replaces only the marked README section', () => {
    const section = renderSection({
      machine: { node: 'v20', cpu: 'cpu', cores: 2, memoryGiB: 8, os: 'Linux', loadAverage: 0, date: 'd' },
      quick: false,
      filters: [],
      durationMs: 1,
      results: rows,
      skipped: [{ scenario: 'postgres', reason: 'PostgreSQL not reachable' }],
      failed: [],
    });
    expect(section).toContain('|  | callers = 1 | callers = 16 |');
    expect(section).toContain('| cistern | 0.1 (4×) | 0.1 (4×) |');
    expect(section).toContain('| generic-pool | 0.4 | 0.4 |');
    expect(section).toContain('postgres: skipped (PostgreSQL not reachable)');
    const readme = 'intro\n<!-- bench:start -->\nold\n<!-- bench:end -->\nafter\n';
    const next = replaceSection(readme, section);
    expect(next.startsWith('intro\n<!-- bench:start -->\n')).toBe(true);
    expect(next.endsWith('<!-- bench:end -->\nafter\n')).toBe(true);
    expect(next).not.toContain('old');
    expect(() => replaceSection('no markers', section)).toThrow(/bench:start/);
  });
});

describe('paired ratios (bench/run.ts vsFloor and vsBestPeer)', () => {
  it('cancel repetitions that ran slower, which a ratio of medians lets through', () => {
    // repetition 1 ran at half speed for both subjects, repetition 3 for the floor only:
    // within each of 1 and 2, cistern was 1.11x the floor
    const cistern = [10_000, 20_000, 20_000];
    const floor = [9_000, 18_000, 9_000];
    expect(median(cistern) / median(floor)).toBeCloseTo(2.22, 2);
    expect(pairedSpeedRatio(cistern, floor, 'ops/s')).toBeCloseTo(1.11, 2);
  });

  it('invert for units where lower is better, and reject unpaired lists', () => {
    expect(pairedSpeedRatio([2, 4], [4, 8], 'ms')).toBe(2);
    expect(() => pairedSpeedRatio([1, 2], [1], 'ops/s')).toThrow(/2 and 1 repetitions/);
  });
});
