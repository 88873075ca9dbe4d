/**
 * Regenerates the benchmark section of README.md from bench/results/latest.json:
 * everything between `<!-- bench:start -->` and `<!-- bench:end -->` is replaced.
 * `npm run bench:readme` after a full `npm run bench`; `-- --check` exits 1 when
 * the README is out of date (for CI), without writing.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeMachine } from './lib/machine.js';
import { RESULTS_PATH, type ResultsFile } from './lib/results-file.js';
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
    lines.push(`#### ${scenario}`, '', ...renderScenario(rows), '');
  }
  for (const s of file.skipped) lines.push(`- ${s.scenario}: skipped (${s.reason})`);
  for (const f of file.failed) lines.push(`- ${f.scenario}: failed (${f.error})`);
  return lines.join('\n').trimEnd();
}

/**
 * One varying parameter (e.g. callers): a subject × parameter grid of the main
 * figure, with the ratio to generic-pool when there is one. Otherwise a flat table.
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
        return r === undefined ? '' : withRatio(r);
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

function withRatio(r: BenchResult): string {
  const ratio = r.extra?.vsGenericPool;
  if (ratio === undefined || r.subject === 'generic-pool') return formatNumber(r.value);
  return `${formatNumber(r.value)} (${formatNumber(ratio)}×)`;
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
  if (check) {
    if (next !== readme) {
      console.error('README.md benchmark section is out of date: run npm run bench:readme');
      process.exit(1);
    }
    console.log('README.md benchmark section is up to date');
  } else if (next === readme) {
    console.log('README.md benchmark section already up to date');
  } else {
    await writeFile(README, next);
    console.log(`README.md benchmark section regenerated from ${fileURLToPath(RESULTS_PATH)}`);
  }
}
