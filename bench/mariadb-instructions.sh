#!/usr/bin/env bash
# Instructions per query of the MariaDB path (bench/mariadb-instructions.ts) under
# callgrind, against the real server (MARIADB_URL, default 127.0.0.1:3306): per
# subject, caller count and query, one run of WARMUP queries and one of WARMUP+N
# (unbroken: see bench/mariadb-instructions.ts), with --separate-threads=yes; the figure is
# (Ir(N) - Ir(0)) / N of the main thread (node runs --single-threaded: any other
# thread's total is printed beside it as bg/query, normally 0). The bench is bundled first
# (esbuild) so tsx's start-up stays out of the counts' noise.
#
# Usage: bench/mariadb-instructions.sh [subjects...]
#   subjects: bare driver driver-loan acquire use (default: all)
#   env QUERIES (default 5000), WARMUP (default 10000), CALLERS (default "64 10"),
#   SQL (default "select1 rows100"), JOBS (default 2), NODE (default node),
#   NODE_FLAGS (default: the flags below), PRIOR (default 0; PRIOR=4: the fifth pool of a
#   process, see bench/mariadb-instructions.ts),
#   KEEP=dir: keep the callgrind files there, cg.<subject>.<callers>.<sql>.<N>-01
#   the main thread's; PROF=1: node runs with --perf-basic-prof, so that
#   bench/callgrind-diff.ts can name the JIT code in them (function-level costs per
#   query: `npx tsx bench/callgrind-diff.ts <0 run> <N run> N --map-a /tmp/perf-<pid of
#   the 0 run>.map --map-b /tmp/perf-<pid of the N run>.map`; the pid is in each file's
#   `pid:` line).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
node=${NODE:-node}
. "$root/bench/lib/instructions.sh"
flags=${NODE_FLAGS:-$INSTR_NODE_FLAGS}
[ -n "${PROF:-}" ] && flags="$flags --perf-basic-prof"
subjects=${*:-bare driver driver-loan acquire use}
queries=${QUERIES:-5000}
warmup=${WARMUP:-10000}
callers_list=${CALLERS:-64 10}
sql_list=${SQL:-select1 rows100}
instr_out mariadb-instr
instr_bundle mariadb-instructions
echo "node $("$node" --version), $queries queries after $warmup warm-up, 10 connections, $(uptime)"
for s in $subjects; do for c in $callers_list; do for q in $sql_list; do for n in 0 "$queries"; do
  echo "$s $c $q $n"
done; done; done; done |
  xargs -P "${JOBS:-2}" -n 4 sh -c \
    "valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file=$out/cg.\$0.\$1.\$2.\$3 '$node' $flags '$out/instr.mjs' \$0 \$3 $warmup \$1 \$2 >/dev/null 2>$out/log.\$0.\$1.\$2.\$3 || { cat $out/log.\$0.\$1.\$2.\$3 >&2; exit 255; }"
# summary: of each thread's file; -01 is the main thread
ir() { grep -m1 '^summary:' "$1" | cut -d' ' -f2; }
bg() {
  local sum=0 f
  for f in "$1"-*; do
    case "$f" in *-01) ;; *) sum=$((sum + $(ir "$f"))) ;; esac
  done
  echo "$sum"
}
# steady: without V8's optimizing compiles and the start-up hash seed (instr_jit); raw: all
printf '%-12s %7s %-8s %12s %12s %10s\n' subject callers sql 'steady/query' 'raw/query' 'bg/query'
for q in $sql_list; do for c in $callers_list; do for s in $subjects; do
  base=$out/cg.$s.$c.$q
  read -r steady raw < <(instr_per_query "$base.0-01" "$base.$queries-01" "$queries")
  back=$(( ($(bg "$base.$queries") - $(bg "$base.0")) / queries ))
  printf '%-12s %7s %-8s %12s %12s %10s\n' "$s" "$c" "$q" "$steady" "$raw" "$back"
done; done; done
