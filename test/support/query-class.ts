/** Runs test/fixtures/query-class-optimization.ts under `--allow-natives-syntax` (issue 11's regression check). */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { expect } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

export interface QueryClassState {
  fastBefore: boolean;
  fastAfter: boolean;
  status: number;
  optimized: boolean;
}

export function queryClassState(mode: 'plain' | 'fasten' | 'pool', url?: string): QueryClassState {
  const run = spawnSync(
    process.execPath,
    [
      '--allow-natives-syntax',
      '--import',
      'tsx',
      'test/fixtures/query-class-optimization.ts',
      mode,
      ...(url ? [url] : []),
    ],
    { cwd: root, encoding: 'utf8', timeout: 60_000 },
  );
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as QueryClassState;
}
