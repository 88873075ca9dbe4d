/**
 * The bench runner's machinery: a measurement runs in a fresh process, roles and
 * ratios, the SVG chart, the README ratio lines, the ETA, the free-list floor.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { freeListUse } from '../../bench/lib/free-list.js';
import { Eta } from '../../bench/lib/plan.js';
import { baselineOf, floorFor, roleOf, speedRatio } from '../../bench/lib/roles.js';
import { runChild } from '../../bench/lib/spawn-child.js';
import { renderSvg } from '../../bench/lib/svg-chart.js';
import type { BenchResult } from '../../bench/lib/types.js';
import { ratioLines } from '../../bench/readme-table.js';

const row = (subject: string, value: number, callers = 64, unit = 'ops/s'): BenchResult => ({
  scenario: 'db-select1',
  subject,
  params: { callers },
  value,
  unit,
});

describe('bench: a measurement in a fresh process', () => {
  const file = fileURLToPath(new URL('../fixtures/bench-pid-scenario.ts', import.meta.url));
  // the child is started with this process's flags; vitest's own are not what a child needs
  const execArgv = process.execArgv;
  const request = (subject: string) => ({
    file,
    mode: 'measure' as const,
    caseIndex: 0,
    subject,
    quick: true,
    data: { x: 7 },
    timeoutMs: 30_000,
    onProgress: vi.fn(),
  });

  it('runs each measurement in its own child process and hands it the setup data', async () => {
    process.execArgv = ['--import', 'tsx'];
    try {
      const a = (await runChild(request('a'))) as { value: number; extra: { data: number } };
      const b = (await runChild(request('b'))) as { value: number };
      expect(a.value).not.toBe(process.pid);
      expect(b.value).not.toBe(process.pid);
      expect(a.value).not.toBe(b.value);
      expect(a.extra.data).toBe(7);
      const failing = request('boom');
      await expect(runChild(failing)).rejects.toThrow('boom failed');
      expect(failing.onProgress).toHaveBeenCalledWith('measuring boom');
    } finally {
      process.execArgv = execArgv;
    }
  }, 60_000);
});

describe('bench: roles, ratios and baselines', () => {
  it('reads roles from names unless set', () => {
    expect(roleOf({ subject: 'cistern+mariadb' })).toBe('cistern');
    expect(roleOf({ subject: 'bare free list (floor)' })).toBe('floor');
    expect(roleOf({ subject: 'bare' })).toBe('floor');
    expect(roleOf({ subject: 'pgbench (C reference)' })).toBe('reference');
    expect(roleOf({ subject: 'pg.Pool' })).toBe('peer');
    expect(roleOf({ subject: 'pg.Pool', role: 'floor' })).toBe('floor');
  });

  it('speed ratio follows the unit: ops/s as is, times inverted', () => {
    expect(speedRatio(200, 100, 'ops/s')).toBe(2);
    expect(speedRatio(0.1, 0.4, 'µs/op')).toBe(4);
  });

  it('the baseline is the best peer, never a reference; the floor without peers', () => {
    const rows = [
      row('cistern+x', 90),
      row('floor', 100),
      row('peer a', 50),
      row('peer b', 70),
      row('c reference', 999),
    ];
    expect(baselineOf(rows)?.subject).toBe('peer b');
    expect(baselineOf([row('cistern+x', 90), row('floor', 100)])?.subject).toBe('floor');
  });

  it('writes one ratio line per cistern row and group', () => {
    const rows = [64, 10].flatMap((c) => [
      row('bare free list (floor)', 100, c),
      row('cistern+x', c === 64 ? 95 : 80, c),
      row('x.createPool', 50, c),
      row('other', 40, c),
    ]);
    expect(ratioLines(rows)).toEqual([
      '- cistern+x (callers 64): 0.95× the floor, 1.9× the best peer (x.createPool)',
      '- cistern+x (callers 10): 0.8× the floor, 1.6× the best peer (x.createPool)',
    ]);
  });

  it('compares a row with the floor it names (one floor per driver), else the fastest floor', () => {
    const fast = row('postgres.js free list (floor)', 100);
    const slow = row('pg.Client free list (floor)', 60);
    const onPg = { ...row('cistern+pg', 57), floor: slow.subject };
    const onPostgresJs = row('cistern+postgres.js', 95);
    const rows = [fast, slow, onPg, onPostgresJs, row('pg.Pool', 55), row('pgbench reference', 200)];
    expect(floorFor(onPg, rows)).toBe(slow);
    expect(floorFor(onPostgresJs, rows)).toBe(fast);
    // a name that is not a floor of the group falls back to the fastest floor
    expect(floorFor({ ...onPg, floor: 'gone (floor)' }, rows)).toBe(fast);
    expect(floorFor(fast, rows)).toBeUndefined();
    expect(floorFor(rows[5]!, rows)).toBeUndefined();
    expect(ratioLines(rows)).toEqual([
      '- cistern+pg: 0.95× the floor (pg.Client free list (floor)), 1.04× the best peer (pg.Pool)',
      '- cistern+postgres.js: 0.95× the floor (postgres.js free list (floor)), 1.73× the best peer (pg.Pool)',
    ]);
    // the runner's paired ratio, when the row has one, is what the line shows
    const paired = { ...onPostgresJs, extra: { vsFloor: 0.97, vsBestPeer: 1.7 } };
    expect(ratioLines([fast, slow, paired, row('pg.Pool', 55)])).toEqual([
      '- cistern+postgres.js: 0.97× the floor (postgres.js free list (floor)), 1.7× the best peer (pg.Pool)',
    ]);
  });
});

describe('bench: the SVG chart', () => {
  it('draws one bar per row, scaled to the best peer, with the ratio printed', () => {
    const svg = renderSvg('db-select1', [
      row('cistern+x', 150),
      row('x pool', 100),
      row('y pool', 50),
      row('z (C reference)', 1000),
    ])!;
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<rect x="\d+" y="[\d.]+" width="[\d.]+" height="16"/g)).toHaveLength(3);
    expect(svg).toContain('1.50×');
    expect(svg).toContain('1.00× (baseline)');
    expect(svg).toContain('0.50×');
    expect(svg).not.toContain('reference'); // references are not charted
    const widths = new Map(
      [...svg.matchAll(/<rect [^>]*width="([\d.]+)"[^>]*><title>([^:]+):/g)].map((m) => [m[2], Number(m[1])]),
    );
    const width = (name: string) => widths.get(name)!;
    expect(width('cistern+x')).toBeGreaterThan(0);
    expect(width('cistern+x')).toBeCloseTo(width('x pool') * 1.5, 0);
    expect(width('y pool')).toBeCloseTo(width('x pool') / 2, 0);
  });

  it('draws nothing for a table without a cistern row or without anything to compare it with', () => {
    expect(renderSvg('t', [row('a', 1), row('b', 2)])).toBeUndefined();
    expect(renderSvg('t', [row('cistern', 1)])).toBeUndefined();
  });

  it('labels each group by the parameters that vary, reference rows aside', () => {
    const rows = [64, 10].flatMap((c) => [
      { ...row('cistern+x', 2, c), params: { callers: c, connections: 10 } },
      { ...row('x pool', 1, c), params: { callers: c, connections: 10 } },
    ]);
    rows.push({ ...row('pgbench (C reference)', 9), params: { callers: 64, connections: 64 } });
    const labels = [...renderSvg('t', rows)!.matchAll(/font-weight="bold">([^<]*)</g)].map((m) => m[1]);
    expect(labels.slice(1)).toEqual(['callers 64', 'callers 10']);
  });

  it('escapes names', () => {
    expect(renderSvg('t', [row('cistern <&>', 1), row('peer', 2)])).toContain('cistern &lt;&amp;&gt;');
  });
});

describe('bench: ETA', () => {
  it('scales what remains by the pace of the finished steps', () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    try {
      const eta = new Eta(40_000);
      expect(eta.text()).toBe('elapsed 0s · ETA 40s');
      eta.begin(10_000);
      vi.advanceTimersByTime(20_000); // twice as slow as planned
      eta.end();
      expect(eta.text()).toBe('elapsed 20s · ETA 1m00s');
      eta.drop(10_000);
      expect(eta.text()).toBe('elapsed 20s · ETA 40s');
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('bench: the free-list floor', () => {
  it('serves waiters in arrival order and never hands one item to two callers', async () => {
    const use = freeListUse([1, 2]);
    const holding = new Set<number>();
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        use(async (item) => {
          expect(holding.has(item)).toBe(false);
          holding.add(item);
          await new Promise((r) => setImmediate(r));
          holding.delete(item);
          order.push(i);
        }),
      ),
    );
    expect(order).toHaveLength(20);
    expect(order.slice(2)).toEqual([...order.slice(2)].sort((a, b) => a - b));
  });
});
