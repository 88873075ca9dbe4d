/**
 * cistern/pg + telemetry against the real PostgreSQL: the driver's queries and the
 * queries a tool sends through the pg.Pool face are CLIENT spans with the
 * parameterized text; a transaction is an INTERNAL span with BEGIN / query /
 * COMMIT children; no parameter value or password anywhere.
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { drizzle } from 'drizzle-orm/node-postgres';
import { integer, pgTable } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pool, pg } from '../../src/drivers/pg/index.js';
import { createPool } from '../../src/index.js';
import { createTracing, useAsyncContext } from '../support/otel.js';
import { PG_URL, serverAvailable } from '../support/servers.js';

const up = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');
const withPassword = new URL(PG_URL);
if (!withPassword.password) withPassword.password = 'pgd-pw-secret';
const PASSWORD = decodeURIComponent(withPassword.password);

describe.skipIf(!up)('telemetry with cistern/pg', () => {
  let restore: () => void;
  const tracing = createTracing();
  beforeAll(() => {
    restore = useAsyncContext();
  });
  afterAll(() => restore());

  it('driver: query spans with $n text, SQLSTATE on error, transaction tree', async () => {
    tracing.exporter.reset();
    const pool = createPool(pg(withPassword.href), {
      name: 'pgd-telemetry',
      size: 1,
      maxOverflow: 0,
      telemetry: { tracerProvider: tracing.provider },
    });
    try {
      await pool.use((c) => c.query('select $1::text as v', ['pgd-param-secret']));
      await pool.use((c) => c.query('select * from pgd_no_such_table')).catch(() => {});
      await pool.transaction((tx) => tx.query('select 1'));
      const spans = tracing.spans();
      const clients = spans.filter((s) => s.kind === SpanKind.CLIENT);
      expect(clients.map((s) => s.attributes['db.query.text'])).toEqual([
        'select $1::text as v',
        'select * from pgd_no_such_table',
        'begin',
        'select ?', // sent without parameters: telemetry strips its literals
        'commit',
      ]);
      expect(clients[0]!.attributes['db.system.name']).toBe('postgresql');
      expect(clients[1]!.status.code).toBe(SpanStatusCode.ERROR);
      expect(clients[1]!.attributes['db.response.status_code']).toBe('42P01');
      const tx = spans.find((s) => s.kind === SpanKind.INTERNAL)!;
      const children = clients.filter((s) => s.parentSpanContext?.spanId === tx.spanContext().spanId);
      expect(children.length).toBe(3);
      const all = JSON.stringify(spans.map((s) => [s.name, s.attributes]));
      expect(all).not.toContain('pgd-param-secret');
      expect(all).not.toContain(PASSWORD);
    } finally {
      await pool.close();
    }
  });

  it("face: a tool's queries (drizzle) are spans, children of the caller's span", async () => {
    tracing.exporter.reset();
    const pool = new Pool({
      connectionString: withPassword.href,
      max: 2,
      telemetry: { tracerProvider: tracing.provider },
    });
    const t = pgTable('pgd_tel', { id: integer('id') });
    try {
      const db = drizzle({ client: pool as never });
      await tracing.tracer.startActiveSpan('request', async (parent) => {
        await db
          .select()
          .from(t)
          .catch(() => {});
        parent.end();
      });
      const spans = tracing.spans();
      const parent = spans.find((s) => s.name === 'request')!;
      const query = spans.find((s) => s.kind === SpanKind.CLIENT)!;
      expect(query.attributes['db.query.text']).toBe('select "id" from "pgd_tel"');
      expect(query.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
      expect(JSON.stringify(spans.map((s) => s.attributes))).not.toContain(PASSWORD);
    } finally {
      await pool.end();
    }
  });
});
