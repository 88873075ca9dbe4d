/**
 * The process where nothing was ever registered with the OpenTelemetry API (no SDK, no
 * context manager, no logger): cistern answers "nothing records" with one read of the
 * API's global registry (src/telemetry/providers.ts), and cistern/postgres hands out the
 * bare postgres.js instance as `c.sql` (no Proxy). An SDK registered later is seen at once.
 * Other test files register a context manager, which creates the registry, so this file
 * takes the registry away for its duration and puts it back after.
 */
import { SpanKind, trace } from '@opentelemetry/api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { postgres } from '../../src/drivers/postgres/index.js';
import { createPool } from '../../src/index.js';
import { nothingRegistered } from '../../src/telemetry/providers.js';
import { createTracing } from '../support/otel.js';
import { PG_URL, serverAvailable } from '../support/servers.js';
import { FakeSqlDriver } from '../support/telemetry-fake-driver.js';

const REGISTRY = Symbol.for('opentelemetry.js.api.1');
const globals = globalThis as Record<symbol, unknown>;
const available = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');

describe('telemetry with nothing registered with the OpenTelemetry API', () => {
  let saved: unknown;
  beforeAll(() => {
    saved = globals[REGISTRY];
    delete globals[REGISTRY];
  });
  afterEach(() => {
    trace.disable();
    delete globals[REGISTRY];
  });
  afterAll(() => {
    if (saved === undefined) delete globals[REGISTRY];
    else globals[REGISTRY] = saved;
  });

  it('the observer says nothing records, until an SDK is registered; then the next query has its span', async () => {
    const driver = new FakeSqlDriver();
    const pool = createPool(driver, { name: 'nothing-registered', size: 1, maxOverflow: 0 });
    try {
      await pool.use((c) => c.query('SELECT 1'));
      const observer = (driver.connections[0] as unknown as { observer: { active(): boolean } }).observer;
      expect(nothingRegistered()).toBe(true);
      expect(observer.active()).toBe(false);
      const tracing = createTracing();
      trace.setGlobalTracerProvider(tracing.provider);
      expect(nothingRegistered()).toBe(false);
      expect(observer.active()).toBe(true);
      await pool.use((c) => c.query('SELECT * FROM after_sdk'));
      const names = tracing
        .spans()
        .filter((s) => s.kind === SpanKind.CLIENT)
        .map((s) => s.name);
      expect(names).toEqual(['SELECT after_sdk']);
    } finally {
      await pool.close();
    }
  });

  it.skipIf(!available)(
    'cistern/postgres: c.sql is the bare instance while nothing records, the observing view once an SDK is registered',
    async () => {
      const pool = createPool(postgres(PG_URL), { name: 'pg-nothing-registered', size: 1, maxOverflow: 0 });
      try {
        await pool.use(async (c) => {
          expect(c.sql).toBe(c.raw);
          expect(await c.sql`select 1 as one`).toEqual([{ one: 1 }]);
        });
        const tracing = createTracing();
        trace.setGlobalTracerProvider(tracing.provider);
        await pool.use(async (c) => {
          expect(c.sql).not.toBe(c.raw);
          await c.sql`select 2 as two`;
        });
        const spans = tracing.spans().filter((s) => s.kind === SpanKind.CLIENT);
        expect(spans.map((s) => s.attributes['db.query.text'])).toEqual(['select 2 as two']);
        trace.disable();
        await pool.use(async (c) => {
          // the registry stays once created, but no tracer provider is registered in it now
          expect(nothingRegistered()).toBe(false);
          expect(c.sql).toBe(c.raw);
        });
      } finally {
        await pool.close();
      }
    },
  );
});
