/**
 * The README's diagnostics channel table and query-log options are public API:
 * checked against the code so they cannot drift.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { POOL_CHANNELS, QUERY_CHANNEL, TRANSACTION_CHANNEL } from '../../src/index.js';
import { markdownTable } from '../support/markdown-table.js';

const readme = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');

/** The first table after a heading (any level), as rows of cells, header rows dropped. */
function table(heading: string): string[][] {
  const rows = markdownTable(
    readme,
    `${heading}
`,
  );
  expect(rows, `README has "${heading}"`).toBeDefined();
  return rows!;
}

const fields = (cell: string) =>
  (cell.match(/\{([^}]*)\}/)?.[1] ?? '')
    .split(',')
    .map((f) => f.trim().replace(/\?$/, ''))
    .filter(Boolean)
    .sort();

describe('README: diagnostics channels', () => {
  test('the table names every channel the code publishes, and only those', () => {
    const names = table('## Diagnostics channels').map((r) => r[0].replace(/`/g, ''));
    expect(names.sort()).toEqual(
      [QUERY_CHANNEL, TRANSACTION_CHANNEL, ...Object.values(POOL_CHANNELS)].sort(),
    );
  });

  test('each pool channel lists the pool event payload plus pool', async () => {
    const rows = new Map(table('## Diagnostics channels').map((r) => [r[0].replace(/`/g, ''), r[2]]));
    // the payload keys of each pool event, from the types' runtime twin: the events a real pool emits
    const expected: Record<string, string[]> = {
      connect: ['connectionId', 'durationMs'],
      connectFailed: ['durationMs', 'error'],
      checkout: ['connectionId', 'waitMs'],
      checkoutFailed: ['error', 'reason', 'waitMs'],
      checkin: ['connectionId', 'heldMs'],
      invalidate: ['connectionId', 'error'],
      close: ['connectionId', 'reason'],
      clear: ['generation'],
      leak: ['connectionId', 'heldMs', 'stack'],
    };
    expect(Object.keys(expected).sort()).toEqual(Object.keys(POOL_CHANNELS).sort());
    for (const [event, keys] of Object.entries(expected)) {
      const cell = rows.get(POOL_CHANNELS[event as keyof typeof POOL_CHANNELS])!;
      expect(fields(cell), event).toEqual(['pool', ...keys].sort());
    }
  });

  test('the query message fields are the ones published', async () => {
    const dc = await import('node:diagnostics_channel');
    const { createQueryPublisher } = await import('../../src/diagnostics/query-publisher.js');
    let message: Record<string, unknown> | undefined;
    const onStart = (m: unknown) => {
      message = m as Record<string, unknown>;
    };
    dc.subscribe(`tracing:${QUERY_CHANNEL}:start`, onStart);
    try {
      createQueryPublisher('p', 'd')
        .start({ text: 'SELECT 1' }, { connectionId: 1, target: { system: 'postgresql' } })
        .end(new Error('x'));
    } finally {
      dc.unsubscribe(`tracing:${QUERY_CHANNEL}:start`, onStart);
    }
    const row = table('## Diagnostics channels').find((r) => r[0] === `\`${QUERY_CHANNEL}\``)!;
    expect(fields(row[2])).toEqual(Object.keys(message!).sort());
  });

  test('the query log options table lists the options logQueries accepts', async () => {
    const documented = table('### Query log').map((r) => r[0].replace(/`/g, ''));
    expect(documented.sort()).toEqual(['level', 'pool', 'sink', 'thresholdMs']);
    const { logQueries } = await import('../../src/index.js');
    expect(() => logQueries({ nope: 1 } as never)).toThrow(/one of thresholdMs, sink, level, pool/);
  });
});
