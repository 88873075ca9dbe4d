/**
 * Where the instructions of a callgrind run go beyond another's, function by function:
 * self (exclusive) cost of every function in run B minus run A, divided by a query
 * count. Made for the pairs bench/pg-instructions.sh writes (N = 0 and N = n after the
 * same warm-up: the difference is what n queries cost), and for two subjects' pairs
 * (`--minus` a second pair: what one subject spends per query beyond another).
 *
 * V8's JIT code has no symbols for valgrind: callgrind names each of its blocks by
 * address. Run node with `--perf-basic-prof` (bench/pg-instructions.sh does with
 * PERF_MAP=1) and pass the /tmp/perf-<pid>.map of each run: blocks are then named
 * by the JavaScript function whose code holds them (`JS:~name file:line` is
 * interpreted or baseline code, `JS:*name` optimized). Code V8 moved or freed may
 * be named wrongly or not at all ("jit?"); compare totals with the harness's figure.
 *
 * Usage: npx tsx bench/callgrind-diff.ts <cg.A-01> <cg.B-01> <queries> [--map-a perf.map] [--map-b perf.map]
 *          [--minus <cg.C-01> <cg.D-01> [--map-c ..] [--map-d ..]] [--top 60] [--callers NAME] [--event Ir]
 * Prints: instructions/query per function (self cost), largest first, and the total;
 * with `--event`, another of the run's events instead of instructions (runs made with
 * `VALGRIND_FLAGS='--cache-sim=yes --branch-sim=yes'`: I1mr, D1mr, Bcm, ... per query);
 * with `--callers NAME`, the inclusive cost of the calls into functions whose label starts
 * with NAME (e.g. `Builtins_StoreIC [`), by calling function.
 */
import { readFileSync } from 'node:fs';

type Costs = Map<string, number>;

interface PerfMap {
  starts: number[];
  ends: number[];
  names: string[];
}

function readPerfMap(path: string | undefined): PerfMap | undefined {
  if (path === undefined) return undefined;
  const rows: Array<[number, number, string]> = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line);
    if (m === null) continue;
    const start = Number.parseInt(m[1]!, 16);
    rows.push([start, start + Number.parseInt(m[2]!, 16), m[3]!]);
  }
  // a later entry for the same address wins (code space reused)
  rows.sort((a, b) => a[0] - b[0]);
  return { starts: rows.map((r) => r[0]), ends: rows.map((r) => r[1]), names: rows.map((r) => r[2]) };
}

function lookup(map: PerfMap, address: number): string | undefined {
  let lo = 0;
  let hi = map.starts.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (map.starts[mid]! <= address) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (found < 0 || address >= map.ends[found]!) return undefined;
  return map.names[found];
}

/** Self cost by function name ("object:function"), JIT blocks named through `map`. */
function selfCosts(path: string, map: PerfMap | undefined, callee?: string): Costs {
  // the cost column of `event` (the run's `events:` line; trailing zero costs are left out)
  let column = 1;
  // compressed names are shared by kind: ob/cob, fn/cfn, fl/fi/fe/cfi/cfl
  const obNames = new Map<string, string>();
  const fnNames = new Map<string, string>();
  const decode = (table: Map<string, string>, spec: string): string => {
    const m = /^\((\d+)\)(?: (.*))?$/.exec(spec.trim());
    if (m === null) return spec.trim();
    if (m[2] !== undefined) table.set(m[1]!, m[2]);
    return table.get(m[1]!) ?? `(${m[1]})`;
  };
  const costs: Costs = new Map();
  let ob = '';
  let fn = '';
  let key = '';
  let skipNext = false;
  /** With `callee`: the next cost line is a call into it, counted for the calling function. */
  let countCall = false;
  let cob = '';
  let cfn = '';
  const text = readFileSync(path, 'utf8');
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const c = line.charCodeAt(0);
    if ((c >= 48 && c <= 57) || c === 43 || c === 45 || c === 42) {
      const ir = Number(line.split(' ')[column] ?? 0);
      if (skipNext) {
        skipNext = false;
        if (countCall && ir > 0) costs.set(key, (costs.get(key) ?? 0) + ir);
        countCall = false;
        continue;
      }
      if (ir > 0 && callee === undefined) costs.set(key, (costs.get(key) ?? 0) + ir);
      continue;
    }
    if (line.startsWith('events:')) {
      const names = line.slice(7).trim().split(/\s+/);
      column = names.indexOf(event) + 1;
      if (column === 0) throw new Error(`${path} has no event ${event} (it has ${names.join(' ')})`);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const field = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (field === 'ob') {
      ob = decode(obNames, value);
      key = label(ob, fn, map);
    } else if (field === 'fn') {
      fn = decode(fnNames, value);
      key = label(ob, fn, map);
    } else if (field === 'cob') cob = decode(obNames, value);
    else if (field === 'cfn') cfn = decode(fnNames, value);
    else if (field === 'calls') {
      skipNext = true;
      countCall = callee !== undefined && label(cob || ob, cfn, map).startsWith(callee);
      cob = '';
    }
  }
  return costs;
}

function label(ob: string, fn: string, map: PerfMap | undefined): string {
  if (fn.startsWith('0x') && (ob === '???' || ob === '' || ob.startsWith('('))) {
    if (map === undefined) return 'jit';
    return lookup(map, Number.parseInt(fn, 16)) ?? 'jit?';
  }
  const slash = ob.lastIndexOf('/');
  return `${fn} [${ob.slice(slash + 1)}]`;
}

function diff(a: Costs, b: Costs): Costs {
  const out: Costs = new Map(b);
  for (const [k, v] of a) out.set(k, (out.get(k) ?? 0) - v);
  return out;
}

const args = process.argv.slice(2);
const opt = (flag: string): string | undefined => {
  const i = args.indexOf(flag);
  if (i < 0) return undefined;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const top = Number(opt('--top') ?? 60);
/** The cost counted (a callgrind event: Ir, or with --cache-sim/--branch-sim e.g. I1mr, D1mr, Bcm). */
const event = opt('--event') ?? 'Ir';
/** Instead of self costs: the inclusive cost of calls into functions whose label starts with this, by caller. */
const callee = opt('--callers');
const maps = ['a', 'b', 'c', 'd'].map((k) => readPerfMap(opt(`--map-${k}`)));
const minusAt = args.indexOf('--minus');
const minus = minusAt >= 0 ? args.splice(minusAt, 3).slice(1) : [];
const [fileA, fileB, queriesText] = args;
const queries = Number(queriesText);
if (fileA === undefined || fileB === undefined || !(queries > 0) || (minusAt >= 0 && minus.length !== 2)) {
  console.error(
    'usage: callgrind-diff.ts <cg.A> <cg.B> <queries> [--map-a m] [--map-b m] [--minus <cg.C> <cg.D> [--map-c m] [--map-d m]] [--top n] [--callers NAME] [--event Ir]',
  );
  process.exit(2);
}
let result = diff(selfCosts(fileA, maps[0], callee), selfCosts(fileB, maps[1], callee));
if (minus.length === 2) {
  result = diff(diff(selfCosts(minus[0]!, maps[2], callee), selfCosts(minus[1]!, maps[3], callee)), result);
}
const rows = [...result].filter(([, v]) => v !== 0).sort((x, y) => Math.abs(y[1]) - Math.abs(x[1]));
let total = 0;
for (const [, v] of rows) total += v;
console.log(`total ${(total / queries).toFixed(0)} ${event === 'Ir' ? 'instructions' : event}/query`);
for (const [k, v] of rows.slice(0, top)) console.log(`${(v / queries).toFixed(0).padStart(8)}  ${k}`);
