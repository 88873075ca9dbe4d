/**
 * docs/topologies.md's cluster options and events tables are checked against the
 * code, as the README's are (test/unit/readme.test.ts).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { CLUSTER_EVENT_NAMES } from '../../src/cluster/emitter.js';
import { CLUSTER_DEFAULTS } from '../../src/cluster/options.js';
import { markdownTable } from '../support/markdown-table.js';

const doc = readFileSync(resolve(import.meta.dirname, '../../docs/topologies.md'), 'utf8');

/** Rows of the first table after the line that starts with `intro`. */
function tableAfter(intro: string): string[][] {
  const rows = markdownTable(doc, intro);
  expect(rows, `docs/topologies.md has "${intro}"`).toBeDefined();
  return rows!;
}

function show(value: unknown): string {
  return typeof value === 'string' ? `\`'${value}'\`` : String(value);
}

describe('docs/topologies.md', () => {
  test('the cluster options table lists every cluster option with the default the code applies', () => {
    const rows = tableAfter('Cluster options (');
    const documented = new Map(rows.map((r) => [r[0]!.replace(/`/g, ''), r[2]!]));
    expect([...documented.keys()].sort()).toEqual(
      ['primary', 'replicas', 'name', 'roles', ...Object.keys(CLUSTER_DEFAULTS)].sort(),
    );
    for (const [key, value] of Object.entries(CLUSTER_DEFAULTS)) {
      expect(documented.get(key), `default of ${key}`).toBe(show(value));
    }
  });

  test('the cluster events table lists every event', () => {
    const rows = tableAfter('Events (`cluster.on');
    expect(rows.map((r) => r[0]!.replace(/`/g, '')).sort()).toEqual([...CLUSTER_EVENT_NAMES].sort());
  });
});
