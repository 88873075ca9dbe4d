import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../src/index.js';
import { createTracing, useAsyncContext } from '../support/otel.js';
import { FakeSqlDriver, FakeSqlError } from '../support/telemetry-fake-driver.js';

let restoreContext: () => void;
beforeAll(() => {
  restoreContext = useAsyncContext();
});
afterAll(() => restoreContext());

const pools: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

function setup(driver = new FakeSqlDriver(), telemetry: Record<string, unknown> = {}) {
  const tracing = createTracing();
  const pool = createPool(driver, {
    name: 'main',
    size: 2,
    telemetry: { tracerProvider: tracing.provider, ...telemetry },
  });
  pools.push(pool);
  return { pool, driver, ...tracing };
}

describe('query spans', () => {
  it('one CLIENT span per query, named by the query summary, with the stable db attributes set at start', async () => {
    const { pool, spans } = setup();
    await pool.use((c) => c.query('SELECT * FROM users WHERE id = $1', [42]));
    const [span] = spans();
    expect(spans()).toHaveLength(1);
    expect(span.name).toBe('SELECT users');
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.instrumentationScope.name).toBe('cistern');
    expect(span.attributes).toEqual({
      'db.system.name': 'postgresql',
      'db.namespace': 'app',
      'db.query.summary': 'SELECT users',
      'db.query.text': 'SELECT * FROM users WHERE id = $1',
      'server.address': '127.0.0.1',
      'server.port': 5432,
    });
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('sanitizes unparameterized text: literals become ?', async () => {
    const { pool, spans } = setup();
    await pool.use((c) =>
      c.query("UPDATE accounts SET token = 'tok-secret-1' WHERE id = 7", [], { unparameterized: true }),
    );
    expect(spans()[0].attributes['db.query.text']).toBe('UPDATE accounts SET token = ? WHERE id = ?');
    expect(spans()[0].name).toBe('UPDATE accounts');
  });

  it('captureQueryText: false leaves db.query.text out but keeps the summary', async () => {
    const { pool, spans } = setup(new FakeSqlDriver(), { captureQueryText: false });
    await pool.use((c) => c.query('DELETE FROM sessions WHERE id = $1', ['s']));
    expect(spans()[0].attributes['db.query.text']).toBeUndefined();
    expect(spans()[0].attributes['db.query.summary']).toBe('DELETE sessions');
  });

  it('db.operation.batch.size only when > 1', async () => {
    const { pool, spans } = setup();
    await pool.use(async (c) => {
      await c.query('INSERT INTO t (a) VALUES (?)', [[1], [2], [3]], { batchSize: 3 });
      await c.query('INSERT INTO t (a) VALUES (?)', [[1]], { batchSize: 1 });
    });
    expect(spans().map((s) => s.attributes['db.operation.batch.size'])).toEqual([3, undefined]);
  });

  it('a failing query: status ERROR, error.type and db.response.status_code from the SQLSTATE, no message', async () => {
    const { pool, spans } = setup();
    const error = new FakeSqlError('invalid input syntax for type integer: "value-secret"', '22P02');
    await expect(pool.use((c) => c.query('SELECT $1::int', ['value-secret'], { fail: error }))).rejects.toBe(
      error,
    );
    const [span] = spans();
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR });
    expect(span.attributes['error.type']).toBe('22P02');
    expect(span.attributes['db.response.status_code']).toBe('22P02');
    expect(span.events).toHaveLength(0);
    expect(JSON.stringify([span.name, span.attributes, span.status, span.events])).not.toContain(
      'value-secret',
    );
  });

  it('MariaDB / MySQL: the server error number is the status code', async () => {
    const { pool, spans } = setup(new FakeSqlDriver({ system: 'mariadb', port: 3306 }));
    const error = Object.assign(new Error("Table 'test.nope' doesn't exist"), {
      errno: 1146,
      sqlState: '42S02',
      code: 'ER_NO_SUCH_TABLE',
    });
    await expect(pool.use((c) => c.query('SELECT * FROM nope', [], { fail: error }))).rejects.toBe(error);
    expect(spans()[0].attributes).toMatchObject({
      'db.system.name': 'mariadb',
      'db.response.status_code': '1146',
      'error.type': '1146',
      'server.port': 3306,
    });
  });

  it('a client-side error has error.type from its code and no status code', async () => {
    const { pool, spans } = setup();
    const error = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', errno: -104 });
    await expect(pool.use((c) => c.query('SELECT 1', [], { fail: error }))).rejects.toBe(error);
    expect(spans()[0].attributes['error.type']).toBe('ECONNRESET');
    expect(spans()[0].attributes['db.response.status_code']).toBeUndefined();
  });

  it('never puts a parameter value or a password in any span', async () => {
    const driver = new FakeSqlDriver();
    const { pool, spans } = setup(driver);
    const secrets = ['p4ssw0rd-param', 'card-4111111111111111'];
    await pool.use((c) => c.query('INSERT INTO users (name, pw) VALUES ($1, $2)', secrets));
    await pool.use((c) =>
      c.query("SELECT * FROM users WHERE pw = 'p4ssw0rd-literal'", [], { unparameterized: true }),
    );
    await pool.transaction((c) => c.query('UPDATE users SET pw = $1', ['p4ssw0rd-tx']));
    const dump = JSON.stringify(
      spans().map((s) => ({ name: s.name, attributes: s.attributes, events: s.events })),
    );
    expect(dump).not.toMatch(/p4ssw0rd|4111111111111111/);
    expect(spans().length).toBeGreaterThanOrEqual(5);
  });

  it('telemetry: false produces no span and hands the driver no observer', async () => {
    const tracing = createTracing();
    const driver = new FakeSqlDriver();
    const pool = createPool(driver, { telemetry: false });
    pools.push(pool);
    await pool.use((c) => c.query('SELECT 1'));
    await pool.transaction((c) => c.query('SELECT 2'));
    expect(tracing.spans()).toHaveLength(0);
    expect((driver.connections[0] as unknown as { observer: unknown }).observer).toBeUndefined();
  });
});
