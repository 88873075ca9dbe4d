/**
 * `npm run soak [-- [--seconds N] [--runs N] [filter ...]]`: the soak of issue 9
 * on every SQL driver (bench/soak/targets.ts), through the fault proxy, on the
 * real servers (PG_URL, MARIADB_URL). Prints a block of figures per run and a
 * summary per driver; exits 1 when any check failed. Default: 45 s per run, the
 * last 15 s without faults, 1 run. A missing server is reported and skipped
 * (under CI it fails the run).
 *
 * postgres.js 3: `CISTERN_TEST_POSTGRES=3` makes every `import 'postgres'` load the
 * `postgres3` devDependency (postgres3-hooks.mjs, registered here before anything imports
 * postgres.js; vitest's alias does the same in the test runs). A target that needs the
 * other major than this process has runs in a child process (this file again, with the
 * variable set and `--child`), which sends its reports back for the summary.
 */
import { fork } from 'node:child_process';
import { register } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const loadedMajor = process.env.CISTERN_TEST_POSTGRES ?? '4';
if (loadedMajor !== '3' && loadedMajor !== '4') {
  console.error(`CISTERN_TEST_POSTGRES must be 3 or 4 (postgres.js major), got '${loadedMajor}'`);
  process.exit(2);
}
if (loadedMajor === '3') register('./postgres3-hooks.mjs', import.meta.url);
// everything that may import postgres.js is loaded after the hook
const { IN_CI, reachable } = await import('../../test/support/servers.js');
const { formatReport, formatSummary } = await import('./report.js');
const { runSoak } = await import('./soak.js');
const { LOADED_POSTGRES_JS_MAJOR, SOAK_TARGETS } = await import('./targets.js');
type SoakReport = Awaited<ReturnType<typeof runSoak>>;
type SoakTarget = (typeof SOAK_TARGETS)[number];

if (String(LOADED_POSTGRES_JS_MAJOR) !== loadedMajor) {
  console.error(
    `CISTERN_TEST_POSTGRES=${loadedMajor}, but postgres.js ${LOADED_POSTGRES_JS_MAJOR} is loaded`,
  );
  process.exit(2);
}

const USAGE =
  'usage: npm run soak -- [--seconds N] [--runs N] [driver ...]   (drivers: ' +
  `${SOAK_TARGETS.map((t) => t.name).join(', ')}; a name picks every driver containing it)`;

const args = process.argv.slice(2);
let seconds = 45;
let runs = 1;
/** In a child: run exactly these targets and send the reports to the parent. */
let child = false;
const filters: string[] = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--help' || a === '-h') {
    console.log(USAGE);
    process.exit(0);
  } else if (a === '--seconds' || a === '--runs') {
    const n = Number(args[++i]);
    if (!Number.isInteger(n) || n < 1 || (a === '--seconds' && (n < 5 || n > 600))) {
      console.error(
        `${a} takes an integer (${a === '--seconds' ? '5..600' : '>= 1'}), got ${args[i]}\n${USAGE}`,
      );
      process.exit(2);
    }
    if (a === '--seconds') seconds = n;
    else runs = n;
  } else if (a === '--child') {
    child = true;
  } else if (a.startsWith('-')) {
    console.error(`unknown option ${a}\n${USAGE}`);
    process.exit(2);
  } else filters.push(a);
}
const targets = SOAK_TARGETS.filter((t) =>
  child ? filters.includes(t.name) : filters.length === 0 || filters.some((f) => t.name.includes(f)),
);
if (targets.length === 0) {
  console.error(`no soak target matches ${filters.join(', ')}\n${USAGE}`);
  process.exit(2);
}

const recoveryMs = Math.round(seconds * 1000 * (1 / 3));
const machine = () =>
  `load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')} on ${cpus().length} cores`;
if (!child) {
  console.log(
    `soak: ${targets.map((t) => t.name).join(', ')} × ${runs} run(s) of ${seconds} s (faults for ${seconds - recoveryMs / 1000} s, then ${recoveryMs / 1000} s without); ` +
      `expected ${Math.ceil((targets.length * runs * (seconds + 3)) / 60)} min\n` +
      `${new Date().toISOString()}, Node ${process.versions.node}, ${machine()}\n`,
  );
}

/** Run `target` in a child process that has its postgres.js major loaded; resolves its reports. */
function runInChild(target: SoakTarget, major: 3 | 4): Promise<{ reports: SoakReport[]; failed: boolean }> {
  const main = fileURLToPath(import.meta.url);
  const proc = fork(main, ['--child', '--seconds', String(seconds), '--runs', String(runs), target.name], {
    execArgv: process.execArgv,
    env: { ...process.env, CISTERN_TEST_POSTGRES: String(major) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve) => {
    let reports: SoakReport[] = [];
    proc.on('message', (m: { reports?: SoakReport[] }) => {
      if (Array.isArray(m.reports)) reports = m.reports;
    });
    proc.on('error', (error) => console.error(`${target.name}: the child process failed: ${error.message}`));
    proc.on('exit', (code, signal) => {
      const failed = code !== 0;
      if (failed) console.error(`${target.name}: the child process exited with ${signal ?? code}`);
      resolve({ reports, failed });
    });
  });
}

const reports: SoakReport[] = [];
let failed = false;
for (const target of targets) {
  const major = target.postgresJsMajor;
  if (major !== undefined && major !== LOADED_POSTGRES_JS_MAJOR) {
    console.log(`${target.name}: in a child process with CISTERN_TEST_POSTGRES=${major}`);
    const result = await runInChild(target, major);
    reports.push(...result.reports);
    if (result.failed) failed = true;
    continue;
  }
  if (!(await reachable(target.serverUrl))) {
    const line = `${target.name}: ${target.server} not reachable at ${new URL(target.serverUrl).host} (set ${target.urlVariable})`;
    if (IN_CI) {
      console.error(`${line}: FAILED under CI`);
      failed = true;
    } else console.log(`${line}: skipped`);
    continue;
  }
  for (let run = 1; run <= runs; run++) {
    console.log(`${target.name} run ${run}/${runs}`);
    const report = await runSoak(target, { durationMs: seconds * 1000, recoveryMs, log: console.log });
    reports.push(report);
    console.log(`${formatReport(report)}\n`);
    if (report.failedChecks.length > 0) failed = true;
  }
}
if (child) {
  process.send?.({ reports }, () => process.disconnect());
} else if (reports.length > 0) {
  console.log(`summary (${new Date().toISOString()}, ${machine()})\n${formatSummary(reports)}`);
}
process.exitCode = failed ? 1 : 0;
