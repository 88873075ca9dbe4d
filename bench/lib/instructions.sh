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
# instr_bundle ENTRY: bundles bench/ENTRY.ts (esbuild, src/load-telemetry.ts swapped for
#   its static twin as under Vitest) into $out/instr.mjs, so tsx's start-up stays out of
#   the counts.

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
import path from 'node:path';
const { build } = await import(path.join('$root', 'node_modules/esbuild/lib/main.js'));
await build({
  entryPoints: [path.join('$root', 'bench/$1.ts')],
  bundle: true, platform: 'node', format: 'esm', packages: 'external',
  outfile: '$out/instr.mjs', logLevel: 'warning',
  // src/load-telemetry.ts requires the built package; its static twin (as under Vitest)
  plugins: [{ name: 'static-telemetry', setup(b) {
    b.onResolve({ filter: /load-telemetry\.js$/ }, (a) =>
      a.importer.includes('/src/') ? { path: path.join('$root', 'test/support/load-telemetry.ts') } : undefined);
  } }],
});
JS
  node "$out/build.mjs"
}
