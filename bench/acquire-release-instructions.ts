/**
 * The acquire-release microbench (bench/acquire-release.bench.ts) as instruction
 * counts, for callgrind: one contender (`bare`, the floor, or `cistern`, every feature
 * on, from bench/lib/contenders.ts), 10 in-memory resources, `callers` concurrent
 * loops of `await pool.acquire(); pool.release(c)`: WARMUP round trips per caller,
 * then N more. Run it with N = 0 and N = n under callgrind; the difference over
 * n × callers is instructions per round trip. bench/pg-instructions.sh does that with
 * ENTRY=acquire-release-instructions (subjects `bare cistern`, CALLERS e.g. "1 16 256",
 * QUERIES and WARMUP then count round trips per caller).
 *
 * Usage: node --expose-gc --import tsx bench/acquire-release-instructions.ts <bare|cistern> <callers> <N per caller> [WARMUP per caller=3000]
 */
import { bare, cistern } from './lib/contenders.js';

const name = process.argv[2];
const callers = Number(process.argv[3]);
const n = Number(process.argv[4]);
const warmup = Number(process.argv[5] ?? 3000);
if (
  (name !== 'bare' && name !== 'cistern') ||
  !Number.isInteger(callers) ||
  callers < 1 ||
  !Number.isInteger(n) ||
  n < 0 ||
  !Number.isInteger(warmup) ||
  warmup < 0
) {
  console.error(
    'usage: acquire-release-instructions.ts <bare|cistern> <callers> <N per caller> [WARMUP per caller]',
  );
  process.exit(2);
}

async function main(): Promise<void> {
  const contender = await (name === 'bare' ? bare : cistern).open(10);
  await contender.run(callers, warmup);
  await contender.run(callers, n);
  // the harness divides by its N: one line says what N counted
  console.log(`${name} ${callers} callers: ${n * callers} queries, pings=0 (round trips: ${n} per caller)`);
  await contender.close();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
