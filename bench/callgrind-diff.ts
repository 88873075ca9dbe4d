/**
 * Function-level instructions per query from two callgrind files of one subject: the
 * run with N queries minus the run with none, divided by N (start-up and warm-up
 * cancel). V8's JIT code has no symbols; when node ran with `--perf-basic-prof`
 * (bench/mariadb-instructions.sh with PROF=1), its addresses are named from
 * /tmp/perf-<pid>.map (`JS:` + V8's name, e.g. `JS:*query file.mjs:12:3`), else
 * they count as `(JIT code)`.
 *
 * The totals per part follow: `[optimizing compiler]` above a few hundred means TurboFan
 * still compiled in the measured window (raise WARMUP).
 *
 * Usage: npx tsx bench/callgrind-diff.ts <file N> <file 0> <N> [--inclusive] [--top K] [--grep RE]
 *   Exclusive costs by default; --inclusive gives callgrind's inclusive costs (reliable
 *   for C++ and builtins, rough for JIT code, whose calls callgrind cannot always pair).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const inclusive = args.includes('--inclusive');
if (inclusive) args.splice(args.indexOf('--inclusive'), 1);
const top = Number(flag('--top') ?? 40);
const grep = flag('--grep');
const [fileN, file0, nText] = args;
const n = Number(nText);
if (!fileN || !file0 || !Number.isInteger(n) || n <= 0) {
  console.error('usage: callgrind-diff.ts <file N> <file 0> <N> [--inclusive] [--top K] [--grep RE]');
  process.exit(2);
}

interface PerfMap {
  starts: number[];
  ends: number[];
  names: string[];
}

function perfMap(file: string): PerfMap | undefined {
  const pid = /^pid: (\d+)/m.exec(readFileSync(file, 'utf8').slice(0, 4000))?.[1];
  const path = `/tmp/perf-${pid}.map`;
  if (pid === undefined || !existsSync(path)) return undefined;
  const rows: [number, number, string][] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line);
    if (m) rows.push([Number.parseInt(m[1], 16), Number.parseInt(m[2], 16), m[3]]);
  }
  // later entries win (code space reused after a code object died): stable sort keeps their order
  rows.sort((a, b) => a[0] - b[0]);
  return { starts: rows.map((r) => r[0]), ends: rows.map((r) => r[0] + r[1]), names: rows.map((r) => r[2]) };
}

function lookUp(map: PerfMap | undefined, address: number): string {
  if (map === undefined) return '(JIT code)';
  let lo = 0;
  let hi = map.starts.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (map.starts[mid] <= address) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  // the last entry starting at or before the address that still covers it
  for (let i = found; i >= 0 && i > found - 50; i--) {
    if (address < map.ends[i]) return `JS:${map.names[i]}`;
  }
  return '(JIT code, unnamed)';
}

function costs(file: string): Map<string, number> {
  const map = perfMap(file);
  const text = execFileSync(
    'callgrind_annotate',
    [`--inclusive=${inclusive ? 'yes' : 'no'}`, '--threshold=100', file],
    { encoding: 'utf8', maxBuffer: 1 << 28 },
  );
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^\s*([\d,]+) \([ \d.]+%\)\s+(.*)$/.exec(line);
    if (!m || m[2] === 'PROGRAM TOTALS') continue;
    const ir = Number(m[1].replaceAll(',', ''));
    let name = m[2]
      .replace(/^\?\?\?:/, '')
      .replace(/ \[[^\]]*\]$/, '')
      .replace(/'\d+$/, '');
    const hex = /^0x([0-9a-f]+)$/.exec(name);
    if (hex) name = lookUp(map, Number.parseInt(hex[1], 16));
    out.set(name, (out.get(name) ?? 0) + ir);
  }
  return out;
}

function category(name: string): string {
  if (/compiler::|Zone|Pipeline|maglev/i.test(name)) return 'optimizing compiler';
  if (/Scaveng|Marking|Sweep|Evacuat|MarkCompact|Heap::/.test(name)) return 'GC';
  if (name.startsWith('JS:') || name.startsWith('(JIT')) return 'JIT code';
  if (name.startsWith('Builtins_')) return 'V8 builtins';
  return 'other native';
}

const a = costs(fileN);
const b = costs(file0);
const rows: [string, number][] = [];
let total = 0;
for (const name of new Set([...a.keys(), ...b.keys()])) {
  const d = ((a.get(name) ?? 0) - (b.get(name) ?? 0)) / n;
  if (!inclusive) total += d;
  if (grep !== undefined && !new RegExp(grep).test(name)) continue;
  rows.push([name, d]);
}
rows.sort((x, y) => Math.abs(y[1]) - Math.abs(x[1]));
if (!inclusive) {
  console.log(`${total.toFixed(0).padStart(9)}  total per query`);
  // TurboFan work still in the window means the warm-up was too short for this subject
  const parts = new Map<string, number>();
  for (const name of new Set([...a.keys(), ...b.keys()])) {
    const part = category(name);
    parts.set(part, (parts.get(part) ?? 0) + ((a.get(name) ?? 0) - (b.get(name) ?? 0)) / n);
  }
  for (const [part, d] of parts) console.log(`${d.toFixed(0).padStart(9)}  [${part}]`);
}
for (const [name, d] of rows.slice(0, top)) console.log(`${d.toFixed(0).padStart(9)}  ${name.slice(0, 160)}`);
