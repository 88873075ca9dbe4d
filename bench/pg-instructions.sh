#!/usr/bin/env bash
# Instructions per query of cistern+postgres.js and its free-list ceiling
# (bench/pg-instructions.ts) under callgrind, at several caller counts, against the
# real PostgreSQL on 127.0.0.1 (10 connections). Per subject and caller count: one
# run with N=0 and one with N=$QUERIES, each one unbroken loop of warm-up + N;
# (Ir(N) - Ir(0)) / N of the MAIN thread (--separate-threads=yes; V8's compiler and
# GC helper threads are left out, so the figure is what the event loop spends).
# The bench is bundled first (esbuild, the telemetry loader swapped for its static
# twin as under Vitest) so tsx's start-up stays out of the counts.
# A line also shows the pool's pings while measuring (a round trip the floor never
# makes; under callgrind connections idle ~50x longer, see the .ts).
# Two figures per line: `steady` leaves out what V8's optimizing compiler and the start-up
# hash seed spent in each run (instr_jit in bench/lib/instructions.sh), `raw` is all of
# it. A function that gets hot late is compiled inside the N run only: on 2026-12-08 that
# was up to 5,800 instructions a query of `raw` for `use` (setImmediate, postgres.js's
# `answered`, two getters), so compare subjects by `steady`; a deopt loop would still show
# in it (its deopts and re-entries into unoptimized code are not left out), only the
# compiles are.
#
# Usage: bash bench/pg-instructions.sh [subjects...]       (default: free drv acq use)
#   env CALLERS (default "64 10"), QUERIES (default 6000), WARMUP (default 10000),
#   QUERY (select1 | rows100, default select1), JOBS (parallel valgrinds, default 2),
#   PRIOR (default 0: the number of earlier instances of the same subject each run opens,
#   loads with WARMUP queries and closes before the measured one; PRIOR=4 measures a
#   process's fifth pool, or fifth free list),
#   NODE (node binary, default node), NODE_FLAGS (default: bench/lib/instructions.sh's
#   INSTR_NODE_FLAGS, --single-threaded, no memory reducer, fixed heap sizes), PG_URL,
#   ENTRY=acquire-release-instructions (the in-memory acquire-release microbench instead:
#   subjects bare cistern, CALLERS e.g. "1 16 256", QUERIES/WARMUP per caller), KEEP=dir (keep the callgrind files there,
#   for callgrind_annotate: `callgrind_annotate --inclusive=yes DIR/cg.use.64.6000-01`),
#   PERF_MAP=1 (with KEEP: node --perf-basic-prof, its /tmp/perf-PID.map kept as
#   DIR/map.SUBJECT.CALLERS.N, so that bench/callgrind-diff.ts can name V8's JIT code:
#   npx tsx bench/callgrind-diff.ts DIR/cg.free.64.0-01 DIR/cg.free.64.6000-01 6000
#     --map-a DIR/map.free.64.0 --map-b DIR/map.free.64.6000; the map costs instructions
#   of its own, so take the figures from a run without it),
#   VALGRIND_FLAGS (more callgrind options: '--cache-sim=yes --branch-sim=yes' simulates the
#   caches and branch predictors too, for callgrind-diff.ts --event I1mr / D1mr / Bcm)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
node=${NODE:-node}
subjects=${*:-free drv acq use}
callers=${CALLERS:-64 10}
queries=${QUERIES:-6000}
warmup=${WARMUP:-10000}
query=${QUERY:-select1}
. "$root/bench/lib/instructions.sh"
instr_out pg-instr
# repeatable counts (bench/lib/instructions.sh); NODE_FLAGS replaces them
flags="--expose-gc ${NODE_FLAGS:-$INSTR_NODE_FLAGS}"
if [ -n "${PERF_MAP:-}" ]; then
  [ -n "${KEEP:-}" ] || { echo 'PERF_MAP needs KEEP=dir' >&2; exit 2; }
  flags="$flags --perf-basic-prof"
fi
instr_bundle "${ENTRY:-pg-instructions}"
echo "node $("$node" --version), $query, $queries queries after $warmup warm-up, 10 connections, $(uptime)"
for c in $callers; do for s in $subjects; do for q in 0 "$queries"; do echo "$s $c $q"; done; done; done |
  xargs -P "${JOBS:-2}" -n 3 sh -c \
    "valgrind --tool=callgrind --separate-threads=yes --dump-instr=no ${VALGRIND_FLAGS:-} --callgrind-out-file=$out/cg.\$0.\$1.\$2 '$node' $flags '$out/instr.mjs' \$0 \$1 \$2 $warmup $query >$out/out.\$0.\$1.\$2 2>$out/log.\$0.\$1.\$2 || { cat $out/log.\$0.\$1.\$2 >&2; exit 255; }"
if [ -n "${PERF_MAP:-}" ]; then
  for c in $callers; do for s in $subjects; do for q in 0 "$queries"; do
    pid=$(sed -n 's/^pid: //p' "$out/cg.$s.$c.$q-01" | head -1)
    mv "/tmp/perf-$pid.map" "$out/map.$s.$c.$q"
  done; done; done
fi
printf '%-7s %4s %-8s %9s %9s  %s\n' subject callers '' 'steady' 'raw' '(steady: raw without JIT compiles and the start-up hash seed, instr_jit)'
for c in $callers; do
  for s in $subjects; do
    # divided by the count the run reports (acquire-release: per caller x callers)
    n=$(sed -n 's/^.*: \([0-9]*\) queries.*$/\1/p' "$out/out.$s.$c.$queries")
    # the main thread's file is the one callgrind numbers -01
    read -r steady raw < <(instr_per_query "$out/cg.$s.$c.0-01" "$out/cg.$s.$c.$queries-01" "$n")
    printf '%-7s %4s callers  %9s %9s  instructions/query  (%s)\n' "$s" "$c" "$steady" "$raw" \
      "$(sed -n 's/^.*: \([0-9]* queries, pings=[0-9]*\(, prior=[0-9]*\)*\).*$/\1/p' "$out/out.$s.$c.$queries")"
    # with the cache and branch simulation: its misses per query, steady
    if grep -q '^events:.*I1mr' "$out/cg.$s.$c.0-01"; then
      printf '%-7s %4s callers  %s\n' "$s" "$c" "$(instr_events "$out/cg.$s.$c.0-01" "$out/cg.$s.$c.$queries-01" "$n")"
    fi
  done
done
