'use strict';
/**
 * Runs generic-pool's own tap suite (tap 8, the version its package.json declares)
 * against cistern/generic-pool and checks the result:
 * - the test files are byte-identical to upstream (sha256 in upstream.json);
 * - every failing test is a deliberate difference listed in upstream.json (and in
 *   docs/generic-pool.md); any other failure fails the run;
 * - a listed difference that now passes also fails the run (the list must stay true).
 * Prints `tests: N passed, N failed, N skipped` (deliberate differences count as skipped).
 */
const { spawnSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const upstream = JSON.parse(readFileSync(join(__dirname, 'upstream.json'), 'utf8'));
const problems = [];

for (const [file, sha] of Object.entries(upstream.sha256)) {
  const actual = createHash('sha256')
    .update(readFileSync(join(__dirname, file)))
    .digest('hex');
  if (actual !== sha)
    problems.push(`${file} differs from coopernurse/node-pool@${upstream.commit.slice(0, 7)}`);
}

const files = Object.keys(upstream.sha256).filter((f) => f.endsWith('-test.js'));
const tap = join(__dirname, 'node_modules', 'tap', 'bin', 'run.js');
const run = spawnSync(process.execPath, [tap, '--no-coverage', '--reporter=tap', '--timeout=60', ...files], {
  cwd: __dirname,
  encoding: 'utf8',
  env: { ...process.env, TAP_TIMEOUT: '60' },
  maxBuffer: 64 * 1024 * 1024,
});
const out = `${run.stdout}`;
if (process.env.GENERIC_POOL_SUITE_VERBOSE) process.stdout.write(out);

// top level: one subtest per file; one level in: the file's tap.test() cases
const results = new Map();
let file;
for (const line of out.split('\n')) {
  const sub = /^# Subtest: (test\/\S+)$/.exec(line);
  if (sub) file = sub[1];
  const res = /^ {4}(not ok|ok) \d+ - (.*?)(?: # (?:time=\S+|SKIP.*|TODO.*))?$/.exec(line);
  if (res && file) results.set(`${file} > ${res[2].trim()}`, res[1] === 'ok');
}

const known = upstream.deliberateDifferences;
let passed = 0;
let failed = 0;
let skipped = 0;
for (const [name, ok] of results) {
  if (name in known) {
    if (ok) {
      failed++;
      problems.push(
        `listed as a deliberate difference but passes now (update upstream.json and the doc): ${name}`,
      );
    } else {
      skipped++;
      console.log(`known difference: ${name} -- ${known[name]}`);
    }
  } else if (ok) {
    passed++;
  } else {
    failed++;
    problems.push(`failed: ${name}`);
  }
}
for (const name of Object.keys(known)) {
  if (!results.has(name)) problems.push(`listed deliberate difference did not run: ${name}`);
}
if (results.size === 0) problems.push(`no test results parsed from tap (exit ${run.status}): ${run.stderr}`);
for (const p of problems) console.error(`generic-pool suite: ${p}`);
if (problems.length > 0 && !process.env.GENERIC_POOL_SUITE_VERBOSE) process.stdout.write(out);
console.log(
  `generic-pool's own suite (${files.length} files, node-pool@${upstream.commit.slice(0, 7)}, tap 8) on cistern/generic-pool via require, Node ${process.version}`,
);
console.log(`tests: ${passed} passed, ${Math.max(failed, problems.length)} failed, ${skipped} skipped`);
process.exit(problems.length > 0 ? 1 : 0);
