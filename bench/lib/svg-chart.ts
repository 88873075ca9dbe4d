/**
 * A plain SVG bar chart of one benchmark table: for each group of rows that share
 * their parameters, one bar per subject with its speed relative to the group's
 * baseline (the best peer pool; without one the floor, else the first row), so
 * 1.0 is "as good as the best alternative" and longer is better whatever the unit
 * (ops/s as is, µs/op and bytes inverted). Hand-written SVG, no dependency.
 */
import { baselineOf, groupKey, roleOf, speedRatio } from './roles.js';
import { formatNumber } from './table.js';
import type { BenchResult, SubjectRole } from './types.js';

const COLORS: Record<SubjectRole, string> = {
  cistern: '#2563eb',
  peer: '#9ca3af',
  floor: '#16a34a',
  reference: '#d97706',
};
const BAR_AREA = 380;
/** Room for the ratio text right of the longest bar. */
const RIGHT = 110;
const ROW = 22;
const GROUP_HEAD = 24;

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The groups of a table: rows sharing every parameter, each with its baseline. */
export function chartGroups(
  rows: readonly BenchResult[],
): { label: string; rows: BenchResult[]; baseline: BenchResult }[] {
  const groups = new Map<string, BenchResult[]>();
  for (const r of rows) groups.set(groupKey(r), [...(groups.get(groupKey(r)) ?? []), r]);
  const varying = varyingParams(rows);
  const out: { label: string; rows: BenchResult[]; baseline: BenchResult }[] = [];
  for (const list of groups.values()) {
    const baseline = baselineOf(list);
    if (!baseline) continue;
    const label = varying.map((k) => `${k} ${list[0].params[k]}`).join(', ');
    out.push({ label, rows: list.filter((r) => roleOf(r) !== 'reference'), baseline });
  }
  return out;
}

/** Parameters that differ between the rows (reference rows, e.g. pgbench with its own connection count, aside). */
export function varyingParams(rows: readonly BenchResult[]): string[] {
  const own = rows.filter((r) => roleOf(r) !== 'reference');
  return Object.keys(own[0]?.params ?? {}).filter((k) => new Set(own.map((r) => r.params[k])).size > 1);
}

/** A chart of the table, or undefined when it has no cistern row or nothing to compare it with. */
export function renderSvg(scenario: string, rows: readonly BenchResult[]): string | undefined {
  const groups = chartGroups(rows).filter(
    (g) => g.rows.some((r) => roleOf(r) === 'cistern') && g.rows.some((r) => roleOf(r) !== 'cistern'),
  );
  if (groups.length === 0) return undefined;
  // about 6.6 px per character at 12 px: the label column fits the longest subject name
  const longest = Math.max(...groups.flatMap((g) => g.rows.map((r) => r.subject.length)));
  const LABEL = Math.round(Math.min(420, Math.max(120, longest * 6.6 + 16)));
  const WIDTH = LABEL + BAR_AREA + RIGHT;
  const ratios = groups.flatMap((g) => g.rows.map((r) => speedRatio(r.value, g.baseline.value, r.unit)));
  const max = Math.max(1.2, ...ratios.filter(Number.isFinite)) * 1.08;
  const x = (ratio: number) => LABEL + (Math.min(ratio, max) / max) * BAR_AREA;
  const baselineRole = roleOf(groups[0].baseline);
  const title = `${scenario}: relative to the ${baselineRole === 'peer' ? 'best peer' : baselineRole === 'floor' ? 'floor' : 'first row'} (1.0); higher is better`;
  const parts: string[] = [];
  let y = 40;
  for (const g of groups) {
    if (g.label) {
      parts.push(`<text x="8" y="${y + 15}" font-weight="bold">${esc(g.label)}</text>`);
      y += GROUP_HEAD;
    }
    for (const r of g.rows) {
      const ratio = speedRatio(r.value, g.baseline.value, r.unit);
      const role = roleOf(r);
      const w = Math.max(1, x(ratio) - LABEL);
      parts.push(
        `<text x="${LABEL - 8}" y="${y + 15}" text-anchor="end">${esc(r.subject)}</text>`,
        `<rect x="${LABEL}" y="${y + 3}" width="${w.toFixed(1)}" height="${ROW - 6}" fill="${COLORS[role]}"><title>${esc(`${r.subject}: ${formatNumber(r.value)} ${r.unit}`)}</title></rect>`,
        `<text x="${(LABEL + w + 6).toFixed(1)}" y="${y + 15}">${ratio.toFixed(2)}×${r === g.baseline ? ' (baseline)' : ''}</text>`,
      );
      y += ROW;
    }
    y += 8;
  }
  const height = y + 28;
  const one = x(1).toFixed(1);
  const legend = (Object.keys(COLORS) as SubjectRole[])
    .filter((role) => role !== 'reference')
    .map(
      (role, i) =>
        `<rect x="${LABEL + i * 110}" y="${height - 20}" width="10" height="10" fill="${COLORS[role]}"/><text x="${LABEL + i * 110 + 14}" y="${height - 11}">${role}</text>`,
    )
    .join('');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, sans-serif" font-size="12" fill="#111">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="8" y="20" font-size="13" font-weight="bold">${esc(title)}</text>`,
    `<line x1="${one}" y1="30" x2="${one}" y2="${height - 26}" stroke="#111" stroke-dasharray="3 3"/>`,
    ...parts,
    legend,
    '</svg>',
    '',
  ].join('\n');
}

/** File name of a table's chart in bench/results/. */
export function chartFile(scenario: string): string {
  return `${scenario.replace(/[^a-z0-9._-]+/gi, '-')}.svg`;
}
