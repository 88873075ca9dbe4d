#!/usr/bin/env bash
# Instructions per query of each telemetry subject (bench/telemetry-instructions.ts)
# under callgrind: per subject one run with N=0 and one with N=$QUERIES, both after
# the same warm-up; (Ir(N) - Ir(0)) / N. The bench is bundled first (esbuild, the
# telemetry loader swapped for its static twin as under Vitest) so tsx's start-up
# stays out of the counts' noise. Only the main thread is counted (--separate-threads):
# V8's background compilation and GC threads moved the all-threads figure by +-20 %.
#
# Usage: bench/telemetry-instructions.sh [node binary] [subjects...]
#   env QUERIES (default 10000), WARMUP (default 2000), JOBS (default 2),
#   DRIVER (fake: the telemetry fake driver; pgjs: unsent postgres.js queries),
#   NODE_FLAGS (extra node flags, e.g. bench/mariadb-instructions.sh's --single-threaded
#   --no-memory-reducer and fixed heap sizes for repeatable counts), KEEP=dir keeps the files there
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
node=${1:-node}
shift || true
subjects=${*:-off nosdk als-off sdk floor}
driver=${DRIVER:-fake}
queries=${QUERIES:-10000}
warmup=${WARMUP:-2000}
. "$root/bench/lib/instructions.sh"
instr_out instr
instr_bundle telemetry-instructions
echo "node $("$node" --version), driver $driver, $queries queries after $warmup warm-up, $(uptime)"
for s in $subjects; do for q in 0 "$queries"; do echo "$s $q"; done; done |
  xargs -P "${JOBS:-2}" -n 2 sh -c \
    "valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file=$out/cg.\$0.\$1 '$node' --expose-gc ${NODE_FLAGS:-} '$out/instr.mjs' \$0 \$1 $warmup >/dev/null 2>$out/log.\$0.\$1 || { cat $out/log.\$0.\$1 >&2; exit 255; }"
for s in $subjects; do
  # the main thread only (-01): V8's compiler and GC threads land in one run or the other
  read -r steady raw < <(instr_per_query "$out/cg.$s.0-01" "$out/cg.$s.$queries-01" "$queries")
  echo "$s $steady instructions/query steady ($raw raw; steady: without JIT compiles and the start-up hash seed, instr_jit)"
done
