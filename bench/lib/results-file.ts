import type { MachineInfo } from './machine.js';
import type { BenchResult } from './types.js';

/** The shape of bench/results/latest.json, written by bench/run.ts, read by bench/readme-table.ts. */
export interface ResultsFile {
  machine: MachineInfo;
  /** A --quick (or CI) run: shorter, noisier figures. */
  quick: boolean;
  /** Filter arguments of the run; empty when every scenario was selected. */
  filters: string[];
  durationMs: number;
  results: BenchResult[];
  skipped: { scenario: string; reason: string }[];
  failed: { scenario: string; error: string }[];
  /** Wall time of each scenario in ms (the next run's plan uses it for `run` scenarios without an estimate). */
  durations?: Record<string, number>;
}

export const RESULTS_PATH = new URL('../results/latest.json', import.meta.url);
