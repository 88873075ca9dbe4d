/**
 * cistern/mariadb + telemetry against the real MariaDB: span names and
 * attributes, the server error number on errors, transactions, and no parameter
 * value or password anywhere.
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mariadb } from '../../src/drivers/mariadb/index.js';
import { createPool } from '../../src/index.js';
import { createTracing, useAsyncContext } from '../support/otel.js';
import { MARIADB_URL, serverAvailable } from '../support/servers.js';

const available = await serverAvailable('MariaDB', MARIADB_URL, 'MARIADB_URL');
const url = new URL(MARIADB_URL);

describe.skipIf(!available)('telemetry with cistern/mariadb', () => {
  let restoreContext: () => void;
  const tracing = createTracing();
  const pool = createPool(mariadb(MARIADB_URL), {
    name: 'maria-telemetry',
    size: 2,
    telemetry: { tracerProvider: tracing.provider },
  });

  beforeAll(() => {
    restoreContext = useAsyncContext();
  });
  afterAll(async () => {
    await pool.close();
    restoreContext();
  });

  it('a parameterized query: CLIENT span, mariadb system, text with ? placeholders', async () => {
    tracing.exporter.reset();
    const secret = 'maria-param-secret';
    await pool.use((c) => c.query('SELECT ? AS v FROM information_schema.tables LIMIT 1', [secret]));
    const [span] = tracing.spans();
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.name).toBe('SELECT information_schema.tables');
    expect(span.attributes).toMatchObject({
      'db.system.name': expect.stringMatching(/^(mariadb|mysql)$/),
      'db.namespace': url.pathname.slice(1),
      'db.query.text': 'SELECT ? AS v FROM information_schema.tables LIMIT 1',
      'server.address': url.hostname,
      'server.port': Number(url.port),
    });
    expect(JSON.stringify(span.attributes)).not.toContain(secret);
  });

  it('an error: the server error number as db.response.status_code', async () => {
    tracing.exporter.reset();
    await expect(pool.use((c) => c.query('SELECT * FROM no_such_table_cistern'))).rejects.toBeDefined();
    const [span] = tracing.spans();
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes).toMatchObject({ 'db.response.status_code': '1146', 'error.type': '1146' });
  });

  it('a transaction: BEGIN / query / COMMIT under the INTERNAL span', async () => {
    tracing.exporter.reset();
    await pool.transaction((c) => c.query('SELECT 1'));
    const spans = tracing.spans();
    const tx = spans.find((s) => s.name === 'transaction maria-telemetry')!;
    expect(tx.kind).toBe(SpanKind.INTERNAL);
    expect(tx.attributes['cistern.transaction.outcome']).toBe('committed');
    const children = spans.filter((s) => s.parentSpanContext?.spanId === tx.spanContext().spanId);
    expect(children).toHaveLength(3);
    expect(children[0].attributes['db.operation.name']).toBe('BEGIN');
    expect(children[2].attributes['db.operation.name']).toBe('COMMIT');
  });
});
