# Sourced by the callgrind harnesses (bench/pg-instructions.sh, mariadb-instructions.sh,
# telemetry-instructions.sh); expects $root (the repository).
#
# instr_out NAME: sets $out, the folder for the bundle and the callgrind files: KEEP=dir
#   keeps them there, else a temporary folder removed on exit; node_modules linked in.
# instr_bundle ENTRY: bundles bench/ENTRY.ts (esbuild, src/load-telemetry.ts swapped for
#   its static twin as under Vitest) into $out/instr.mjs, so tsx's start-up stays out of
#   the counts.

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
