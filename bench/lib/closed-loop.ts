import { percentile } from './stats.js';
/** One measurement of a closed-loop load: throughput, latency percentiles and CPU. */
export interface LoadSample {
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** This process's CPU time (user + system) over the loop, per completed operation, in µs. */
  cpuUsPerOp: number;
}

/**
 * `callers` loops each run `operation(caller)` back to back until the deadline;
 * every latency is kept (bounded by the duration). More than 100 failed
 * operations abort the measurement with `describe`'s text.
 */
export async function closedLoop(
  callers: number,
  durationMs: number,
  operation: (caller: number) => PromiseLike<unknown>,
  describe: string,
): Promise<LoadSample> {
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  let failures = 0;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const deadline = started + durationMs;
  const caller = async (index: number) => {
    for (;;) {
      const t0 = performance.now();
      if (t0 >= deadline) return;
      try {
        await operation(index);
      } catch (error) {
        failures++;
        if (failures > 100)
          throw new Error(`more than 100 failed operations running ${describe}`, { cause: error });
        continue;
      }
      if (count === latencies.length) {
        const bigger = new Float64Array(latencies.length * 2);
        bigger.set(latencies);
        latencies = bigger;
      }
      latencies[count++] = performance.now() - t0;
    }
  };
  await Promise.all(Array.from({ length: callers }, (_, i) => caller(i)));
  const elapsed = performance.now() - started;
  const cpu = process.cpuUsage(cpu0);
  const sorted = latencies.subarray(0, count).sort();
  return {
    opsPerSec: (count / elapsed) * 1000,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    cpuUsPerOp: (cpu.user + cpu.system) / Math.max(1, count),
  };
}

/**
 * Several subjects measured in turns in one process: `rounds` rounds of one `windowMs`
 * closed loop per subject, the order reversed every other round, so two windows of a
 * pair are under a second apart and the machine's drift mostly cancels in their ratio.
 * Returns each subject's samples, one per round, in round order (index r of two subjects
 * is a pair). `label` prefixes the subject's name in a failure's message.
 */
export async function alternatingWindows(
  subjects: Readonly<Record<string, () => PromiseLike<unknown>>>,
  callers: number,
  windowMs: number,
  rounds: number,
  label = '',
): Promise<Record<string, LoadSample[]>> {
  const names = Object.keys(subjects);
  const samples: Record<string, LoadSample[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    for (const n of r % 2 === 0 ? names : [...names].reverse()) {
      samples[n]!.push(await closedLoop(callers, windowMs, subjects[n]!, `${label}${n}`));
    }
  }
  return samples;
}
