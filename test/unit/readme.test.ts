/**
 * The README's options, events and error tables are checked against the code,
 * so the docs cannot drift (postgres.js documents one lifetime range and
 * implements another).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import * as cistern from '../../src/index.js';
import { POOL_EVENT_NAMES } from '../../src/pool/emitter.js';
import { DEFAULTS } from '../../src/pool/options.js';
import { markdownTable } from '../support/markdown-table.js';

const readme = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');

function table(heading: string): string[][] {
  const rows = markdownTable(
    readme,
    `## ${heading}
`,
    { withinSection: true },
  );
  expect(rows, `README has a "## ${heading}" section`).toBeDefined();
  return rows!;
}

function show(value: unknown): string {
  if (value === Number.POSITIVE_INFINITY) return '`Infinity`';
  if (typeof value === 'string') return `\`'${value}'\``;
  if (typeof value === 'object' && value !== null) {
    return `\`{ ${Object.entries(value)
      .map(([k, v]) => `${k}: ${String(v)}`)
      .join(', ')} }\``;
  }
  return String(value);
}

describe('README', () => {
  test('the options table lists every option with the default the code applies', () => {
    const rows = table('Options');
    const documented = new Map(rows.map((r) => [r[0].replace(/`/g, ''), r[2]]));
    const options = ['name', ...Object.keys(DEFAULTS)].sort();
    expect([...documented.keys()].sort()).toEqual(options);
    for (const [key, value] of Object.entries(DEFAULTS)) {
      if (key === 'telemetry') continue;
      expect(documented.get(key), `default of ${key}`).toBe(show(value));
    }
  });

  test('the events table lists every event the pool emits', () => {
    const rows = table('Events');
    const names = rows.map((r) => r[0].replace(/`/g, '')).sort();
    expect(names).toEqual([...POOL_EVENT_NAMES].sort());
  });

  test('the errors table names every error class with its code', () => {
    const rows = table('Errors');
    for (const [cls, code] of rows.map((r) => [r[0].replace(/`/g, ''), r[1].replace(/`/g, '')])) {
      const Ctor = (cistern as unknown as Record<string, new (...a: never[]) => { code: string }>)[cls];
      expect(typeof Ctor, `${cls} is exported`).toBe('function');
      const instance =
        cls === 'PoolConfigError'
          ? new (Ctor as unknown as new (o: string, m: string) => { code: string })('x', 'y')
          : new (Ctor as unknown as new (m?: string) => { code: string })('m');
      expect(instance.code, `${cls}.code`).toBe(code);
    }
    expect(rows).toHaveLength(6);
  });
});
