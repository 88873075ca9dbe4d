/**
 * The benchmark runner: `npm run bench [-- [--quick] [filter ...]]`.
 *
 * Runs every bench/*.bench.ts (each default-exports a BenchScenario), or those
 * whose file name contains one of the filters; prints the machine, a progress
 * line, one table per scenario; writes bench/results/latest.json. `--quick`
 * (also when CI is set) asks scenarios for a short, noisier run. A scenario that
 * throws is reported and the others still run; the exit code is non-zero only
 * when one crashed. Skipped scenarios (no server) do not fail the run.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeMachine, machineInfo } from './lib/machine.js';
import { RESULTS_PATH, type ResultsFile } from './lib/results-file.js';
import { groupByScenario, textTable } from './lib/table.js';
import type { BenchContext, BenchResult, BenchScenario } from './lib/types.js';

const USAGE =
  'usage: npm run bench -- [--quick] [filter ...]   (a filter matches part of a bench/*.bench.ts file name)';
/** A scenario that runs longer is reported as failed and the runner moves on. */
const SCENARIO_TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS) || 15 * 60_000;

class ScenarioTimeout extends Error {
  override name = 'ScenarioTimeout';
}

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

const progress = createProgress();
const machine = machineInfo();
console.log(describeMachine(machine));
console.log(`${quick ? 'quick run (--quick or CI): fewer repetitions, shorter measurements' : 'full run'}\n`);

const files = (await readdir(benchDir))
  .filter((f) => f.endsWith('.bench.ts'))
  .sort()
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error(`no bench/*.bench.ts matches ${filters.join(', ')}`);
  process.exit(2);
}

const started = performance.now();
const out: ResultsFile = { machine, quick, filters, durationMs: 0, results: [], skipped: [], failed: [] };
let timedOut = false;

for (const file of files) {
  const label = basename(file, '.bench.ts');
  let name = label;
  try {
    const scenario = await loadScenario(file);
    name = scenario.name;
    const reason = await scenario.skip?.();
    if (reason) {
      progress.clear();
      console.log(`${name}: skipped (${reason})\n`);
      out.skipped.push({ scenario: name, reason });
      continue;
    }
    const sceneStart = performance.now();
    const ctx: BenchContext = {
      quick,
      progress: (message) => progress.show(`${name} ${elapsed(sceneStart)} ${message}`),
    };
    progress.show(`${name} starting`);
    const results = await withTimeout(scenario.run(ctx), SCENARIO_TIMEOUT_MS, name);
    checkResults(name, results);
    progress.clear();
    for (const [scenarioName, rows] of groupByScenario(results)) {
      console.log(`${scenarioName} (${elapsed(sceneStart)})\n${textTable(rows)}\n`);
    }
    if (results.length === 0) console.log(`${name}: no results\n`);
    out.results.push(...results);
  } catch (error) {
    progress.clear();
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    console.error(`${name}: FAILED\n${text}\n`);
    out.failed.push({ scenario: name, error: error instanceof Error ? error.message : String(error) });
    if (error instanceof ScenarioTimeout) timedOut = true;
  }
}

out.durationMs = Math.round(performance.now() - started);
// a filtered or quick run must not overwrite the full results the README is made from
const resultsPath = filters.length === 0 && !quick ? RESULTS_PATH : new URL('partial.tmp.json', RESULTS_PATH);
await mkdir(new URL('.', RESULTS_PATH), { recursive: true });
await writeFile(resultsPath, `${JSON.stringify(out, null, 2)}\n`);
progress.clear();
const summary = [
  `${out.results.length} results`,
  `${out.skipped.length} skipped`,
  `${out.failed.length} failed`,
];
console.log(`${summary.join(', ')} in ${elapsed(started)}; wrote ${fileURLToPath(resultsPath)}`);

if (out.failed.length > 0) process.exitCode = 1;
if (timedOut) process.exit();
// A scenario that left a socket or timer behind must not keep the runner alive.
setTimeout(() => {
  console.error('a scenario left handles open; exiting');
  process.exit();
}, 2000).unref();

async function loadScenario(file: string): Promise<BenchScenario> {
  const mod = (await import(pathToFileURL(`${benchDir}${file}`).href)) as { default?: BenchScenario };
  const scenario = mod.default;
  if (!scenario || typeof scenario.name !== 'string' || typeof scenario.run !== 'function') {
    throw new TypeError(`${file} must default-export a BenchScenario ({ name, run, skip? })`);
  }
  return scenario;
}

function checkResults(name: string, results: unknown): asserts results is BenchResult[] {
  if (!Array.isArray(results)) throw new TypeError(`${name}: run() must resolve an array of BenchResult`);
  for (const r of results as BenchResult[]) {
    if (typeof r.subject !== 'string' || typeof r.value !== 'number' || typeof r.unit !== 'string') {
      throw new TypeError(`${name}: malformed result ${JSON.stringify(r)}`);
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ScenarioTimeout(`${name} ran longer than ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
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
