/**
 * Plays every spec file of test/spec (operations in, pool events out) through
 * the pool core on the fake driver: one test per file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runSpec, type SpecFile } from '../support/spec-runner.js';

const dir = fileURLToPath(new URL('../spec/', import.meta.url));
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort();

describe('pool spec files (test/spec/*.json)', () => {
  it('finds the spec files', () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
  });

  for (const file of files) {
    // JSON has no Infinity: the string "Infinity" stands for it (maxOverflow, timeouts)
    const spec = JSON.parse(readFileSync(dir + file, 'utf8'), (_key, value) =>
      value === 'Infinity' ? Number.POSITIVE_INFINITY : value,
    ) as SpecFile;
    it(`${file.replace(/\.json$/, '')}: ${spec.description}`, async () => {
      await runSpec(spec);
    });
  }
});
