/**
 * postgres.js 4 publishes its own tracing channels (`postgres:query`, `postgres:connect`,
 * ...). cistern's query spans come from its own observer, never from those channels, so
 * a subscriber there (an APM agent) does not make cistern count a query twice, and the
 * observed `sql` view runs each query exactly once. On 3.x nothing is published.
 */
import dc from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { postgres } from '../../src/drivers/postgres/index.js';
import { connectCtx, PG_URL, POSTGRES_MAJOR, recordingObserver } from '../support/postgres.js';
import { serverAvailable } from '../support/servers.js';

const up = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');

describe.skipIf(!up)('postgres driver and postgres.js 4 diagnostics_channel tracing', () => {
  it('one observed query = one cistern scope and one postgres:query trace (4.x) / none (3.x)', async () => {
    const traced: Array<string | null> = [];
    const channel = dc.tracingChannel('postgres:query');
    const handlers = {
      start: (ctx: unknown) => traced.push((ctx as { query: string | null }).query),
      end: () => {},
      asyncStart: () => {},
      asyncEnd: () => {},
      error: () => {},
    };
    channel.subscribe(handlers);
    const observer = recordingObserver();
    const driver = postgres(PG_URL);
    const conn = await driver.connect(connectCtx({ observer }));
    try {
      traced.length = 0;
      await conn.sql`select ${1}::int as one`;
      await conn.query('select $1::int as two', [2]);
      expect(observer.started.map((i) => i.text)).toEqual(['select $1::int as one', 'select $1::int as two']);
      expect(observer.ended).toHaveLength(2);
      expect(traced).toEqual(POSTGRES_MAJOR === 4 ? ['select $1::int as one', 'select $1::int as two'] : []);
    } finally {
      channel.unsubscribe(handlers);
      await driver.close(conn);
    }
  });
});
