/**
 * The benchmark runner: `npm run bench [-- [--quick] [filter ...]]`.
 *
 * Runs every bench/*.bench.ts (each default-exports a BenchScenario), or those
 * whose file name contains one of the filters. Prints the machine and the plan
 * with its expected duration first, a progress line with an ETA, one table per
 * scenario; writes bench/results/latest.json and one SVG chart per table
 * (bench/results/<table>.svg) for a full run; a quick or filtered run writes
 * bench/results/partial.tmp.json and its charts to a temporary directory.
 *
 * Order cannot matter: an `isolated` scenario has every measurement (one subject,
 * one case, one repetition) in a fresh child process, interleaved (each repetition
 * rotates the subjects' order); a `run` scenario runs whole in a fresh child process.
 * `--quick` (also when CI is set) asks scenarios for a short, noisier run. A scenario
 * that fails is reported and the others still run; the exit code is non-zero only
 * when one failed. Skipped scenarios (no server) do not fail the run.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { basename } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeMachine, machineInfo } from './lib/machine.js';
import { CHILD_OVERHEAD_MS, duration, Eta, type PlanStep } from './lib/plan.js';
import { RESULTS_PATH, type ResultsFile } from './lib/results-file.js';
import { floorFor, groupKey, pairedSpeedRatio, roleOf, speedRatio } from './lib/roles.js';
import { runChild } from './lib/spawn-child.js';
import { median, round } from './lib/stats.js';
import { chartFile, renderSvg } from './lib/svg-chart.js';
import { groupByScenario, textTable } from './lib/table.js';
import type { BenchContext, BenchResult, BenchSample, BenchScenario, IsolatedBench } from './lib/types.js';

const USAGE =
  'usage: npm run bench -- [--quick] [filter ...]   (a filter matches part of a bench/*.bench.ts file name)';
/** A `run` scenario that runs longer is reported as failed and the runner moves on. */
const SCENARIO_TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS) || 15 * 60_000;
/** Estimate for a `run` scenario with no estimate and no earlier full run. */
const UNKNOWN_MS = 60_000;

/** Each isolated row's figure per repetition, in repetition order (for the paired ratios). */
const repetitionValues = new WeakMap<BenchResult, number[]>();

const benchDir = fileURLToPath(new URL('.', import.meta.url));
const args = process.argv.slice(2);
const flags = args.filter((a) => a.startsWith('-'));
const filters = args.filter((a) => !a.startsWith('-'));
for (const flag of flags) {
  if (flag === '--help' || flag === '-h') {
    console.log(USAGE);
    process.exit(0);
  }
  if (flag !== '--quick') {
    console.error(`unknown option ${flag}\n${USAGE}`);
    process.exit(2);
  }
}
const ci =
  process.env.CI !== undefined &&
  process.env.CI !== '' &&
  process.env.CI !== 'false' &&
  process.env.CI !== '0';
const quick = flags.includes('--quick') || ci;
const full = filters.length === 0 && !quick;

const progress = createProgress();
const machine = machineInfo();
console.log(describeMachine(machine));
console.log(`${quick ? 'quick run (--quick or CI): fewer repetitions, shorter measurements' : 'full run'}`);

const files = (await readdir(benchDir))
  .filter((f) => f.endsWith('.bench.ts'))
  .sort()
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error(`no bench/*.bench.ts matches ${filters.join(', ')}`);
  process.exit(2);
}

const previous = await readPrevious();
const out: ResultsFile = {
  machine,
  quick,
  filters,
  durationMs: 0,
  results: [],
  skipped: [],
  failed: [],
  durations: {},
};

// ---- the plan: load every scenario, ask which skip, estimate the rest
interface Planned {
  file: string;
  scenario: BenchScenario;
  expectedMs: number;
  steps: number;
}
const planned: Planned[] = [];
progress.show('planning: loading scenarios and checking servers');
for (const file of files) {
  let name = basename(file, '.bench.ts');
  try {
    const scenario = await loadScenario(file);
    name = scenario.name;
    const reason = await scenario.skip?.();
    if (reason) {
      out.skipped.push({ scenario: name, reason });
      continue;
    }
    planned.push({ file, scenario, ...estimate(scenario) });
  } catch (error) {
    fail(name, error);
  }
}
progress.clear();
const plan: PlanStep[] = planned.map((p) => ({ label: p.scenario.name, expectedMs: p.expectedMs }));
const totalMs = plan.reduce((sum, s) => sum + s.expectedMs, 0);
console.log(`\nplan (${planned.length} scenarios, expected ${duration(totalMs)}):`);
for (const p of planned) {
  const how = p.scenario.isolated ? `${p.steps} measurements, each in a fresh process` : 'one fresh process';
  console.log(`  ${p.scenario.name.padEnd(22)} ~${duration(p.expectedMs).padStart(6)}  ${how}`);
}
for (const s of out.skipped) console.log(`  ${s.scenario.padEnd(22)} skipped (${s.reason})`);
console.log('');

const eta = new Eta(totalMs);
const started = performance.now();
for (const p of planned) {
  const name = p.scenario.name;
  const sceneStart = performance.now();
  try {
    const results = p.scenario.isolated
      ? await runIsolated(p.file, name, p.scenario.isolated)
      : await runWhole(p.file, name, p.expectedMs);
    progress.clear();
    for (const [table, rows] of groupByScenario(results)) {
      console.log(`${table} (${elapsed(sceneStart)})\n${textTable(rows)}\n`);
    }
    if (results.length === 0) console.log(`${name}: no results\n`);
    out.results.push(...results);
  } catch (error) {
    fail(name, error);
  }
  out.durations![name] = Math.round(performance.now() - sceneStart);
}

out.durationMs = Math.round(performance.now() - started);
// a filtered or quick run must not overwrite the full results the README is made from
const resultsPath = full ? RESULTS_PATH : new URL('partial.tmp.json', RESULTS_PATH);
await mkdir(new URL('.', RESULTS_PATH), { recursive: true });
await writeFile(resultsPath, `${JSON.stringify(out, null, 2)}\n`);
const chartDir = full
  ? fileURLToPath(new URL('.', RESULTS_PATH))
  : `${os.tmpdir()}/cistern-bench-charts-${process.pid}/`;
const charts = await writeCharts(out.results, chartDir);
progress.clear();
const summary = [
  `${out.results.length} results`,
  `${out.skipped.length} skipped`,
  `${out.failed.length} failed`,
];
console.log(`${summary.join(', ')} in ${elapsed(started)} (planned ${duration(totalMs)})`);
console.log(`wrote ${fileURLToPath(resultsPath)}${charts > 0 ? ` and ${charts} charts in ${chartDir}` : ''}`);

if (out.failed.length > 0) process.exitCode = 1;
// A scenario that left a socket or timer behind in this process must not keep the runner alive.
setTimeout(() => {
  console.error('a scenario left handles open; exiting');
  process.exit();
}, 2000).unref();

// ---- helpers

async function loadScenario(file: string): Promise<BenchScenario> {
  const mod = (await import(pathToFileURL(`${benchDir}${file}`).href)) as { default?: BenchScenario };
  const scenario = mod.default;
  if (
    !scenario ||
    typeof scenario.name !== 'string' ||
    (typeof scenario.run !== 'function') === (scenario.isolated === undefined)
  ) {
    throw new TypeError(
      `${file} must default-export a BenchScenario ({ name, skip?, and either isolated or run })`,
    );
  }
  return scenario;
}

function estimate(s: BenchScenario): { expectedMs: number; steps: number } {
  if (s.isolated) {
    const iso = s.isolated;
    const steps = iso
      .cases(quick)
      .reduce((n, c) => n + (c.subjects ?? iso.subjects).length * iso.repetitions(quick), 0);
    return { expectedMs: steps * (iso.measureMs(quick) + CHILD_OVERHEAD_MS), steps };
  }
  const known = s.estimateMs?.(quick) ?? (quick ? undefined : previous?.durations?.[s.name]);
  return { expectedMs: (known ?? UNKNOWN_MS) + CHILD_OVERHEAD_MS, steps: 1 };
}

async function runWhole(file: string, name: string, expectedMs: number): Promise<BenchResult[]> {
  eta.begin(expectedMs);
  progress.show(`${name} starting · ${eta.text()}`);
  const start = performance.now();
  try {
    const results = await runChild({
      file: `${benchDir}${file}`,
      mode: 'run',
      quick,
      timeoutMs: SCENARIO_TIMEOUT_MS,
      onProgress: (m) => progress.show(`${name} ${elapsed(start)} ${m} · ${eta.text()}`),
    });
    checkResults(name, results);
    return results;
  } finally {
    eta.end();
  }
}

async function runIsolated(file: string, name: string, iso: IsolatedBench): Promise<BenchResult[]> {
  const cases = iso.cases(quick);
  const repetitions = iso.repetitions(quick);
  const stepMs = iso.measureMs(quick) + CHILD_OVERHEAD_MS;
  const total = cases.reduce((n, c) => n + (c.subjects ?? iso.subjects).length * repetitions, 0);
  const ctx: BenchContext = { quick, progress: (m) => progress.show(`${name} ${m} · ${eta.text()}`) };
  const prepared = iso.setup ? await iso.setup(quick) : undefined;
  const results: BenchResult[] = [];
  const errors: string[] = [];
  let done = 0;
  try {
    for (let ci = 0; ci < cases.length; ci++) {
      const c = cases[ci];
      const subjects = c.subjects ?? iso.subjects;
      const samples = new Map<string, BenchSample[]>(subjects.map((s) => [s, []]));
      const label = Object.values(c.params).join(' ');
      for (let rep = 0; rep < repetitions; rep++) {
        for (let k = 0; k < subjects.length; k++) {
          const subject = subjects[(k + rep) % subjects.length];
          const step = `[${++done}/${total}] ${c.scenario} ${label}: ${subject} (repetition ${rep + 1}/${repetitions})`;
          eta.begin(stepMs);
          progress.show(`${name} ${step} · ${eta.text()}`);
          try {
            const sample = (await runChild({
              file: `${benchDir}${file}`,
              mode: 'measure',
              caseIndex: ci,
              subject,
              quick,
              data: prepared?.data,
              repetition: rep,
              timeoutMs: stepMs * 4 + 60_000,
              onProgress: (m) => progress.show(`${name} ${step} ${m} · ${eta.text()}`),
            })) as BenchSample;
            checkSample(name, sample);
            samples.get(subject)!.push(sample);
          } catch (error) {
            errors.push(
              `${c.scenario} ${label} ${subject}: ${error instanceof Error ? error.message : String(error)}`,
            );
          } finally {
            eta.end();
          }
        }
      }
      results.push(...rowsOf(c.scenario, c.params, samples, iso.floorOf));
    }
    if (iso.references) {
      progress.show(`${name} reference rows · ${eta.text()}`);
      results.push(...(await iso.references(ctx)));
    }
  } finally {
    await prepared?.teardown();
  }
  addRatios(results);
  if (errors.length > 0) {
    out.results.push(...results);
    throw new Error(`${errors.length} measurement(s) failed:\n  ${errors.join('\n  ')}`);
  }
  return results;
}

/** Median of every figure over the repetitions, plus the spread of the main one. */
function rowsOf(
  scenario: string,
  params: Record<string, number | string>,
  samples: Map<string, BenchSample[]>,
  floorOf: Readonly<Record<string, string>> = {},
): BenchResult[] {
  const rows: BenchResult[] = [];
  for (const [subject, list] of samples) {
    if (list.length === 0) continue;
    const values = list.map((s) => s.value);
    const mid = median(values);
    const extra: Record<string, number> = {};
    const keys = [...new Set(list.flatMap((s) => Object.keys(s.extra ?? {})))];
    for (const k of keys) {
      const xs = list.flatMap((s) => (s.extra?.[k] === undefined ? [] : [s.extra[k]]));
      if (xs.length > 0) extra[k] = round(median(xs));
    }
    if (list.length > 1)
      extra.spreadPct = round(((Math.max(...values) - Math.min(...values)) / mid) * 100, 2);
    const row: BenchResult = {
      scenario,
      subject,
      params: { ...params },
      value: round(mid),
      unit: list[0].unit,
      extra,
    };
    const floor = floorOf[subject];
    if (floor !== undefined) row.floor = floor;
    repetitionValues.set(row, values);
    rows.push(row);
  }
  return rows;
}

/**
 * `a` relative to `b` (speed, > 1 faster): with the same repetitions measured for both,
 * the median over repetitions of the ratio within each repetition. The subjects of one
 * repetition ran one after another, within seconds; on a shared machine whole
 * repetitions ran up to 2x slower than others, which a ratio of two medians (taken from
 * different repetitions) lets through and a paired ratio cancels. Otherwise the ratio of
 * the two medians.
 */
function pairedRatio(a: BenchResult, b: BenchResult, unit: string): number {
  const xs = repetitionValues.get(a);
  const ys = repetitionValues.get(b);
  if (xs === undefined || ys === undefined || xs.length !== ys.length || xs.length < 2) {
    return speedRatio(a.value, b.value, unit);
  }
  return pairedSpeedRatio(xs, ys, unit);
}

/** `vsFloor` and `vsBestPeer`: speed relative to the floor and to the best peer of the same group (> 1: faster). */
function addRatios(results: BenchResult[]): void {
  const groups = new Map<string, BenchResult[]>();
  for (const r of results) {
    const key = `${r.scenario} ${groupKey(r)}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  for (const rows of groups.values()) {
    const unit = rows[0].unit;
    const best = (role: string) =>
      rows
        .filter((r) => roleOf(r) === role && r.value > 0)
        .reduce<BenchResult | undefined>(
          (b, r) => (!b || speedRatio(r.value, b.value, unit) > 1 ? r : b),
          undefined,
        );
    const peer = best('peer');
    for (const r of rows) {
      if (roleOf(r) === 'reference') continue;
      r.extra ??= {};
      const floor = floorFor(r, rows);
      if (floor) r.extra.vsFloor = round(pairedRatio(r, floor, unit));
      if (peer && roleOf(r) !== 'peer') r.extra.vsBestPeer = round(pairedRatio(r, peer, unit));
    }
  }
}

async function writeCharts(results: readonly BenchResult[], dir: string): Promise<number> {
  let n = 0;
  await mkdir(dir, { recursive: true });
  for (const [table, rows] of groupByScenario(results)) {
    const svg = renderSvg(table, rows);
    if (svg === undefined) continue;
    await writeFile(`${dir}${chartFile(table)}`, svg);
    n++;
  }
  return n;
}

async function readPrevious(): Promise<ResultsFile | undefined> {
  if (!existsSync(RESULTS_PATH)) return undefined;
  try {
    return JSON.parse(await readFile(RESULTS_PATH, 'utf8')) as ResultsFile;
  } catch {
    return undefined;
  }
}

function fail(name: string, error: unknown): void {
  progress.clear();
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  console.error(`${name}: FAILED\n${text}\n`);
  out.failed.push({ scenario: name, error: error instanceof Error ? error.message : String(error) });
}

function checkResults(name: string, results: unknown): asserts results is BenchResult[] {
  if (!Array.isArray(results)) throw new TypeError(`${name}: run() must resolve an array of BenchResult`);
  for (const r of results as BenchResult[]) {
    if (typeof r.subject !== 'string' || typeof r.value !== 'number' || typeof r.unit !== 'string') {
      throw new TypeError(`${name}: malformed result ${JSON.stringify(r)}`);
    }
  }
}

function checkSample(name: string, s: BenchSample): void {
  if (typeof s?.value !== 'number' || typeof s.unit !== 'string') {
    throw new TypeError(`${name}: measure() must resolve { value: number, unit: string, extra? }`);
  }
}

function elapsed(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)}s`;
}

/** One progress line on stderr: rewritten in place on a TTY, plain lines otherwise. */
function createProgress(): { show(message: string): void; clear(): void } {
  const tty = process.stderr.isTTY === true;
  let shown = false;
  return {
    show(message) {
      if (!tty) {
        process.stderr.write(`  ${message}\n`);
        return;
      }
      const width = (process.stderr.columns || 100) - 1;
      process.stderr.write(
        `\r\x1b[2K${message.length > width ? `${message.slice(0, width - 1)}…` : message}`,
      );
      shown = true;
    },
    clear() {
      if (tty && shown) process.stderr.write('\r\x1b[2K');
      shown = false;
    },
  };
}
