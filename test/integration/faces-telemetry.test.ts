/**
 * Every query a tool sends through a face runs on a cistern connection and is traced
 * as cistern's own CLIENT span, a child of the span the tool's caller was in:
 * drizzle (poolSql), kysely (CisternDialect) on PostgreSQL and MariaDB, Prisma's
 * mariadb adapter (mariadbPool), knex (knexPool).
 */

import { type Span, SpanKind } from '@opentelemetry/api';
import { PrismaMariaDb } from '@prisma/adapter-mariadb';
import { sql as dsql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import knex from 'knex';
import { Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mariadb, mariadbPool } from '../../src/drivers/mariadb/index.js';
import { poolSql, postgres } from '../../src/drivers/postgres/index.js';
import { createPool, type Pool } from '../../src/index.js';
import { knexPool } from '../../src/knex/index.js';
import { CisternDialect } from '../../src/kysely/index.js';
import { createTracing, useAsyncContext } from '../support/otel.js';
import { MARIADB_URL, PG_URL, serverAvailable } from '../support/servers.js';

const pgUp = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');
const mariaUp = await serverAvailable('MariaDB', MARIADB_URL, 'MARIADB_URL');

describe.skipIf(!pgUp || !mariaUp)('faces: tool queries are cistern query spans under the caller', () => {
  const tracing = createTracing();
  let restoreContext: () => void;
  let pgPool: Pool<any>;
  let mariaPool: Pool<any>;

  beforeAll(() => {
    restoreContext = useAsyncContext();
    const telemetry = { tracerProvider: tracing.provider, meterProvider: undefined };
    pgPool = createPool(postgres(PG_URL), { size: 2, maxOverflow: 0, telemetry });
    mariaPool = createPool(mariadb(MARIADB_URL), { size: 2, maxOverflow: 0, telemetry });
  });
  afterAll(async () => {
    await pgPool?.close();
    await mariaPool?.close();
    restoreContext();
  });

  /** Run `fn` in a fresh caller span; return the CLIENT spans whose parent it is. */
  async function under(name: string, fn: () => Promise<unknown>): Promise<{ text: string; name: string }[]> {
    tracing.exporter.reset();
    let caller: Span | undefined;
    await tracing.tracer.startActiveSpan(name, async (span) => {
      caller = span;
      try {
        await fn();
      } finally {
        span.end();
      }
    });
    return tracing
      .spans()
      .filter(
        (s) => s.kind === SpanKind.CLIENT && s.parentSpanContext?.spanId === caller!.spanContext().spanId,
      )
      .map((s) => ({ name: s.name, text: String(s.attributes['db.query.text'] ?? '') }));
  }

  it('drizzle on poolSql', async () => {
    const db = drizzle({ client: poolSql(pgPool) });
    const spans = await under('drizzle-caller', () =>
      db.execute(dsql`select ${1}::int as face_drizzle_probe`),
    );
    expect(spans.map((s) => s.text)).toContainEqual(expect.stringContaining('face_drizzle_probe'));
  });

  it('kysely CisternDialect on PostgreSQL and MariaDB', async () => {
    for (const pool of [pgPool, mariaPool]) {
      const db = new Kysely<any>({ dialect: new CisternDialect({ pool, closePoolOnDestroy: false }) });
      const spans = await under('kysely-caller', () => sql`select 1 as face_kysely_probe`.execute(db));
      expect(spans.map((s) => s.text)).toContainEqual(expect.stringContaining('face_kysely_probe'));
      // a transaction's BEGIN and COMMIT are spans too, under the same caller
      const tx = await under('kysely-tx', () =>
        db.transaction().execute((t) => sql`select 2 as face_kysely_tx_probe`.execute(t)),
      );
      const texts = tx.map((s) => s.text.toLowerCase());
      expect(texts.some((t) => t.includes('face_kysely_tx_probe'))).toBe(true);
      expect(texts.some((t) => t.includes('commit'))).toBe(true);
    }
  });

  it('Prisma mariadb adapter on mariadbPool', async () => {
    const adapter = await new PrismaMariaDb(mariadbPool(mariaPool) as never).connect();
    const spans = await under('prisma-caller', () =>
      adapter.queryRaw({ sql: 'SELECT 1 AS face_prisma_probe', args: [], argTypes: [] }),
    );
    expect(spans.map((s) => s.text)).toContainEqual(expect.stringContaining('face_prisma_probe'));
  });

  it('knex mariadb on knexPool', async () => {
    const db = knex({ client: 'mariadb', connectionPool: knexPool(mariaPool) });
    const spans = await under('knex-caller', () => db.raw('select 1 as face_knex_probe'));
    expect(spans.map((s) => s.text)).toContainEqual(expect.stringContaining('face_knex_probe'));
    await db.destroy();
  });
});
