/**
 * A bench child process: `node [flags] bench/lib/child.ts <scenario file> run|measure
 * [case index] [subject]`, started by bench/run.ts with an IPC channel. Runs the
 * whole scenario (`run`) or one measurement (`measure`), sends progress lines and
 * the results to the parent, then exits whatever handles the scenario left open.
 * BENCH_QUICK=1 for --quick; BENCH_DATA carries the isolated scenario's setup data
 * (JSON); BENCH_REPETITION the repetition index.
 */
import { pathToFileURL } from 'node:url';
import type { BenchScenario } from './types.js';

export type ChildMessage =
  | { type: 'progress'; message: string }
  | { type: 'results'; results: unknown }
  | { type: 'sample'; sample: unknown }
  | { type: 'error'; message: string; stack?: string };

const send = (m: ChildMessage): Promise<void> =>
  new Promise((resolve) => {
    if (!process.send) {
      console.log(JSON.stringify(m));
      resolve();
    } else process.send(m, undefined, {}, () => resolve());
  });

const [file, mode, caseArg, subject] = process.argv.slice(2);
const quick = process.env.BENCH_QUICK === '1';
const ctx = { quick, progress: (message: string) => void send({ type: 'progress', message }) };

async function main(): Promise<void> {
  const mod = (await import(pathToFileURL(file).href)) as { default?: BenchScenario };
  const scenario = mod.default;
  if (!scenario) throw new TypeError(`${file} has no default export`);
  if (mode === 'run') {
    if (!scenario.run) throw new TypeError(`${file}: no run()`);
    await send({ type: 'results', results: await scenario.run(ctx) });
    return;
  }
  const iso = scenario.isolated;
  if (!iso) throw new TypeError(`${file}: no isolated bench`);
  const c = iso.cases(quick)[Number(caseArg)];
  if (!c) throw new RangeError(`${file}: no case ${caseArg}`);
  const data = process.env.BENCH_DATA ? JSON.parse(process.env.BENCH_DATA) : undefined;
  const repetition = Number(process.env.BENCH_REPETITION ?? 0);
  await send({ type: 'sample', sample: await iso.measure(c, subject, { ...ctx, data, repetition }) });
}

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    const e = error instanceof Error ? error : new Error(String(error));
    await send({ type: 'error', message: e.message, stack: e.stack });
    process.exit(1);
  },
);
