/**
 * Regenerates the benchmark section of README.md from bench/results/latest.json:
 * everything between `<!-- bench:start -->` and `<!-- bench:end -->` is replaced,
 * and the SVG chart of every table (bench/results/<table>.svg, speed relative to
 * the best peer) is rewritten from the same file, so table and chart always agree.
 * `npm run bench:readme` after a full `npm run bench`; `-- --check` exits 1 when
 * the README or a chart is out of date (for CI), without writing.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeMachine } from './lib/machine.js';
import { RESULTS_PATH, type ResultsFile } from './lib/results-file.js';
import { baselineOf, floorFor, groupKey, roleOf, speedRatio } from './lib/roles.js';
import { chartFile, renderSvg, varyingParams } from './lib/svg-chart.js';
import { formatNumber, groupByScenario, tableCells } from './lib/table.js';
import type { BenchResult } from './lib/types.js';

const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';
const README = new URL('../README.md', import.meta.url);

export function renderSection(file: ResultsFile): string {
  const lines = [
    `Measured with \`npm run bench\`${file.quick ? ' (quick run: fewer repetitions, noisier)' : ''} on: ${describeMachine(file.machine)}.`,
    'Regenerate with `npm run bench && npm run bench:readme`.',
    '',
  ];
  for (const [scenario, rows] of groupByScenario(file.results)) {
    lines.push(`#### ${scenario}`, '');
    if (renderSvg(scenario, rows) !== undefined) {
      lines.push(
        `<img src="bench/results/${chartFile(scenario)}" align="right" width="45%" alt="${scenario}: chart relative to the best peer">`,
        '',
      );
    }
    const ratios = ratioLines(rows);
    if (ratios.length > 0) lines.push(...ratios, '');
    lines.push(...renderScenario(rows), '');
  }
  for (const s of file.skipped) lines.push(`- ${s.scenario}: skipped (${s.reason})`);
  for (const f of file.failed) lines.push(`- ${f.scenario}: failed (${f.error})`);
  return lines.join('\n').trimEnd();
}

/**
 * One varying parameter (e.g. callers): a subject × parameter grid of the main
 * figure, each with its speed relative to the best peer of its column. Otherwise a flat table.
 */
function renderScenario(rows: readonly BenchResult[]): string[] {
  const varying = Object.keys(rows[0].params).filter((k) => new Set(rows.map((r) => r.params[k])).size > 1);
  const units = new Set(rows.map((r) => r.unit));
  // latency percentiles only fit the flat table
  const hasLatency = rows.some((r) => r.extra?.p50Ms !== undefined);
  if (varying.length === 1 && units.size === 1 && !hasLatency) {
    const key = varying[0];
    const columns = [...new Set(rows.map((r) => r.params[key]))];
    const subjects = [...new Set(rows.map((r) => r.subject))];
    const fixed = Object.entries(rows[0].params).filter(([k]) => k !== key);
    const header = ['', ...columns.map((c) => `${key} = ${formatCell(c)}`)];
    const body = subjects.map((subject) => [
      subject,
      ...columns.map((c) => {
        const r = rows.find((x) => x.subject === subject && x.params[key] === c);
        return r === undefined ? '' : withRatio(r, rows);
      }),
    ]);
    const note = fixed.map(([k, v]) => `${k} ${formatCell(v)}`).join(', ');
    const unit = [...units][0];
    const better = /\/s$/.test(unit) ? 'higher' : 'lower';
    return [`${unit}${note ? ` (${note})` : ''}; ${better} is better.`, '', ...markdown(header, body)];
  }
  const { header, body } = tableCells(rows);
  return markdown(header, body);
}

/**
 * One line per cistern row: its speed relative to its floor (`BenchResult.floor`, else the
 * fastest floor; named when the group has several) and to the best peer of its group (the
 * rows sharing every parameter); the runner's paired `vsFloor` / `vsBestPeer` when the row
 * has them, else the ratio of the medians, e.g.
 * `- cistern+mariadb (callers 64): 0.95× the floor, 1.4× the best peer (mysql2 createPool)`.
 */
export function ratioLines(rows: readonly BenchResult[]): string[] {
  const groups = new Map<string, BenchResult[]>();
  for (const r of rows) groups.set(groupKey(r), [...(groups.get(groupKey(r)) ?? []), r]);
  const varying = varyingParams(rows);
  const lines: string[] = [];
  for (const list of groups.values()) {
    const peer = baselineOf(list);
    const floorCount = list.filter((r) => roleOf(r) === 'floor').length;
    for (const r of list) {
      if (roleOf(r) !== 'cistern') continue;
      const parts: string[] = [];
      const floor = floorFor(r, list);
      if (floor) {
        const ratio = r.extra?.vsFloor ?? speedRatio(r.value, floor.value, r.unit);
        parts.push(`${formatNumber(ratio)}× the floor${floorCount > 1 ? ` (${floor.subject})` : ''}`);
      }
      if (peer && roleOf(peer) === 'peer') {
        parts.push(
          `${formatNumber(r.extra?.vsBestPeer ?? speedRatio(r.value, peer.value, r.unit))}× the best peer (${peer.subject})`,
        );
      }
      if (parts.length === 0) continue;
      const where = varying.map((k) => `${k} ${formatCell(r.params[k])}`).join(', ');
      lines.push(`- ${r.subject}${where ? ` (${where})` : ''}: ${parts.join(', ')}`);
    }
  }
  return lines;
}

/** The chart files of a results file: name -> SVG text. */
export function renderCharts(file: ResultsFile): Map<string, string> {
  const charts = new Map<string, string>();
  for (const [scenario, rows] of groupByScenario(file.results)) {
    const svg = renderSvg(scenario, rows);
    if (svg !== undefined) charts.set(chartFile(scenario), svg);
  }
  return charts;
}

/** The figure, and in brackets its speed relative to the best peer of its column (> 1: faster). */
function withRatio(r: BenchResult, rows: readonly BenchResult[]): string {
  const peer = baselineOf(rows.filter((x) => groupKey(x) === groupKey(r)));
  if (peer === undefined || peer === r || roleOf(peer) !== 'peer') return formatNumber(r.value);
  return `${formatNumber(r.value)} (${formatNumber(speedRatio(r.value, peer.value, r.unit))}×)`;
}

function formatCell(v: number | string): string {
  return typeof v === 'number' ? formatNumber(v) : v;
}

function markdown(header: string[], body: string[][]): string[] {
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [row(header), row(header.map((_, i) => (i === 0 ? '---' : '---:'))), ...body.map(row)];
}

export function replaceSection(readme: string, section: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start === -1 || end === -1 || end < start) {
    throw new Error(
      `README.md needs the markers ${START} and ${END} (in that order) around the benchmark section`,
    );
  }
  return `${readme.slice(0, start + START.length)}\n${section}\n${readme.slice(end)}`;
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1]);
if (isMain) {
  const check = process.argv.includes('--check');
  const file = JSON.parse(await readFile(RESULTS_PATH, 'utf8')) as ResultsFile;
  const readme = await readFile(README, 'utf8');
  const next = replaceSection(readme, renderSection(file));
  const charts = renderCharts(file);
  const stale: string[] = [];
  for (const [name, svg] of charts) {
    const path = new URL(name, RESULTS_PATH);
    if (!existsSync(path) || (await readFile(path, 'utf8')) !== svg) stale.push(name);
  }
  if (check) {
    if (next !== readme || stale.length > 0) {
      console.error(
        `README.md benchmark section${stale.length > 0 ? ` or charts (${stale.join(', ')})` : ''} out of date: run npm run bench:readme`,
      );
      process.exit(1);
    }
    console.log('README.md benchmark section and charts are up to date');
  } else {
    for (const name of stale) await writeFile(new URL(name, RESULTS_PATH), charts.get(name)!);
    if (next !== readme) await writeFile(README, next);
    console.log(
      next === readme && stale.length === 0
        ? 'README.md benchmark section and charts already up to date'
        : `README.md benchmark section and ${stale.length} chart(s) regenerated from ${fileURLToPath(RESULTS_PATH)}`,
    );
  }
}
