# Sourced by the callgrind harnesses (bench/pg-instructions.sh, mariadb-instructions.sh,
# telemetry-instructions.sh); expects $root (the repository).
#
# instr_out NAME: sets $out, the folder for the bundle and the callgrind files: KEEP=dir
#   keeps them there, else a temporary folder removed on exit; node_modules linked in.
# $INSTR_NODE_FLAGS: node flags for repeatable counts. One thread (compiler and GC work
#   land on the main thread, in a repeatable order) and a fixed young generation with an
#   old generation large enough that no major GC runs: where a mark-compact fell moved a
#   count by 100M instructions from run to run (the memory reducer, which takes
#   callgrind's slowdown for an idle process, started one in some runs).
# instr_bundle ENTRY: compiles src/, bench/ and test/support/ file by file (esbuild, no bundle: module
#   constants stay foldable, as under tsx and in the built package; src/load-telemetry.ts
#   swapped for its static twin as under Vitest) into $out/js, and $out/instr.mjs imports
#   bench/ENTRY, so tsx's start-up stays out of the counts.
# instr_jit FILE: instructions of callgrind FILE that are not a query's steady cost: V8's
#   optimizing compiler (Runtime_CompileOptimized*, inclusive; on the main thread under
#   --single-threaded) and the start-up hash seed (HashSeed::InitializeRoots, a search for
#   random primes: 8-15M instructions, different in every process). Both moved the
#   N-run minus 0-run difference by up to 4,400 instructions a query (2026-12-08, 10
#   callers, 6,000 queries: rarely called functions such as setImmediate and postgres.js's
#   `answered` got hot and were compiled in the N run only). The harnesses print the
#   figure with these taken out beside the raw one.
# instr_per_query FILE0 FILEN N: "steady raw", instructions per query between the main
#   thread's callgrind files of the 0 run and the N run, without and with instr_jit's part.
# instr_events FILE0 FILEN N: every event of the two files (a run with VALGRIND_FLAGS
#   '--cache-sim=yes --branch-sim=yes' has I1mr, D1mr, Bcm, ...) per query, steady as above:
#   "I1mr=2082 D1mr=1116 ..." (Ir, Dr, Dw, Bc and Bi left out: instructions, data reads and
#   writes, branches, which the steady instruction figure already stands for).

INSTR_NODE_FLAGS='--single-threaded --no-memory-reducer --initial-old-space-size=1024 --min-semi-space-size=16 --max-semi-space-size=16'

instr_out() {
  if [ -n "${KEEP:-}" ]; then
    out=$KEEP
    mkdir -p "$out"
  else
    out=$(mktemp -d "/tmp/cistern-$1.XXXXXX")
    # shellcheck disable=SC2064 # $out is fixed now
    trap "rm -rf '$out'" EXIT
  fi
  ln -sfn "$root/node_modules" "$out/node_modules"
}

instr_bundle() {
  cat >"$out/build.mjs" <<JS
import { writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
const { build } = await import(path.join('$root', 'node_modules/esbuild/lib/main.js'));
const root = '$root';
const files = [];
for (const dir of ['src', 'bench', 'test/support']) {
  for (const f of await readdir(path.join(root, dir), { recursive: true })) {
    if (f.endsWith('.ts') && !f.endsWith('.d.ts')) files.push(path.join(root, dir, f));
  }
}
// one output file per source file, as tsx and the built package load them: ES modules
// whose imports stay imports (a bundle turns module constants into mutable vars, which
// the optimizer cannot fold, and so counts what no user runs)
await build({
  entryPoints: files, outdir: '$out/js', outbase: root,
  bundle: false, platform: 'node', format: 'esm', logLevel: 'warning',
});
writeFileSync('$out/js/package.json', '{"type":"module"}\\n');
// src/load-telemetry.ts requires the built package; its static twin (as under Vitest)
writeFileSync('$out/js/src/load-telemetry.js',
  "import { instrumentPool } from './telemetry/index.js';\\nexport function loadTelemetry() { return instrumentPool; }\\n");
writeFileSync('$out/instr.mjs', "import './js/bench/$1.js';\\n");
JS
  node "$out/build.mjs"
}

instr_jit() {
  instr_event_sums "$1" | awk '$1 == "Ir" { print $3 }'
}

instr_per_query() {
  local a b
  a=$(grep -m1 '^summary:' "$1" | cut -d' ' -f2)
  b=$(grep -m1 '^summary:' "$2" | cut -d' ' -f2)
  echo "$(( (b - $(instr_jit "$2") - a + $(instr_jit "$1")) / $3 )) $(( (b - a) / $3 ))"
}

# every event of a callgrind file: "NAME TOTAL JIT" per line, its summary and the part of it
# in V8's optimizing compiles and the start-up hash seed (instr_jit's functions, inclusive)
instr_event_sums() {
  local names summary
  names=$(grep -m1 '^events:' "$1" | cut -d' ' -f2-)
  summary=$(grep -m1 '^summary:' "$1" | cut -d' ' -f2-)
  callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null |
    awk -v names="$names" -v summary="$summary" '
      /Runtime_CompileOptimized|HashSeed::InitializeRoots/ {
        n = 0
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^[0-9,]+$/) { gsub(",", "", $i); s[++n] += $i }
          else if ($i == ".") n++
          else if ($i ~ /^\(/ || $i ~ /%\)$/) continue
          else break
        }
      }
      END {
        k = split(names, name, " "); split(summary, total, " ")
        for (i = 1; i <= k; i++) printf "%s %d %d\n", name[i], total[i], s[i] + 0
      }'
}

instr_events() {
  join <(instr_event_sums "$1") <(instr_event_sums "$2") |
    awk -v n="$3" '$1 !~ /^(Ir|Dr|Dw|Bc|Bi)$/ { printf "%s%s=%d", sep, $1, (($4 - $5) - ($2 - $3)) / n; sep = " " } END { print "" }'
}

