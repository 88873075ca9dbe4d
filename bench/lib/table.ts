import type { BenchResult } from './types.js';

/** A figure as people read it: 3 significant digits, no exponent for everyday sizes. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  return String(Number(value.toPrecision(3)));
}

/** Rows grouped by `scenario`, in first-seen order. */
export function groupByScenario(results: readonly BenchResult[]): Map<string, BenchResult[]> {
  const groups = new Map<string, BenchResult[]>();
  for (const r of results) {
    const list = groups.get(r.scenario);
    if (list) list.push(r);
    else groups.set(r.scenario, [r]);
  }
  return groups;
}

/** Column headers and cells of one scenario's rows: subject, each param, value, each extra. */
export function tableCells(rows: readonly BenchResult[]): { header: string[]; body: string[][] } {
  const paramKeys = unionKeys(rows.map((r) => r.params));
  const extraKeys = unionKeys(rows.map((r) => r.extra ?? {}));
  const units = [...new Set(rows.map((r) => r.unit))];
  const header = ['subject', ...paramKeys, units.length === 1 ? units[0] : 'value', ...extraKeys];
  const body = rows.map((r) => [
    r.subject,
    ...paramKeys.map((k) => cell(r.params[k])),
    units.length === 1 ? formatNumber(r.value) : `${formatNumber(r.value)} ${r.unit}`,
    ...extraKeys.map((k) => cell(r.extra?.[k])),
  ]);
  return { header, body };
}

/** A plain aligned text table for the terminal. */
export function textTable(rows: readonly BenchResult[]): string {
  const { header, body } = tableCells(rows);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

function cell(value: number | string | undefined): string {
  if (value === undefined) return '';
  return typeof value === 'number' ? formatNumber(value) : value;
}

function unionKeys(records: readonly Record<string, unknown>[]): string[] {
  const keys: string[] = [];
  for (const rec of records) for (const k of Object.keys(rec)) if (!keys.includes(k)) keys.push(k);
  return keys;
}
