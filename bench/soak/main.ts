/**
 * `npm run soak [-- [--seconds N] [--runs N] [filter ...]]`: the soak of issue 9
 * on every SQL driver (bench/soak/targets.ts), through the fault proxy, on the
 * real servers (PG_URL, MARIADB_URL). Prints a block of figures per run and a
 * summary per driver; exits 1 when any check failed. Default: 45 s per run, the
 * last 15 s without faults, 1 run. A missing server is reported and skipped
 * (under CI it fails the run).
 */
import { IN_CI, reachable } from '../../test/support/servers.js';
import { formatReport, formatSummary } from './report.js';
import { runSoak, type SoakReport } from './soak.js';
import { SOAK_TARGETS } from './targets.js';

const USAGE =
  'usage: npm run soak -- [--seconds N] [--runs N] [driver ...]   (drivers: ' +
  `${SOAK_TARGETS.map((t) => t.name).join(', ')})`;

const args = process.argv.slice(2);
let seconds = 45;
let runs = 1;
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
  } else if (a.startsWith('-')) {
    console.error(`unknown option ${a}\n${USAGE}`);
    process.exit(2);
  } else filters.push(a);
}
const targets = SOAK_TARGETS.filter((t) => filters.length === 0 || filters.some((f) => t.name.includes(f)));
if (targets.length === 0) {
  console.error(`no soak target matches ${filters.join(', ')}\n${USAGE}`);
  process.exit(2);
}

const recoveryMs = Math.round(seconds * 1000 * (1 / 3));
console.log(
  `soak: ${targets.map((t) => t.name).join(', ')} × ${runs} run(s) of ${seconds} s (faults for ${seconds - recoveryMs / 1000} s, then ${recoveryMs / 1000} s without); ` +
    `expected ${Math.ceil((targets.length * runs * (seconds + 3)) / 60)} min\n`,
);
const reports: SoakReport[] = [];
let failed = false;
for (const target of targets) {
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
if (reports.length > 0) console.log(`summary\n${formatSummary(reports)}`);
process.exitCode = failed ? 1 : 0;
