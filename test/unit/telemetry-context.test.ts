import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../src/index.js';
import { createTracing, useAsyncContext } from '../support/otel.js';
import { FakeSqlDriver, FakeSqlError, SERIALIZATION_FAILURE } from '../support/telemetry-fake-driver.js';

let restoreContext: () => void;
beforeAll(() => {
  restoreContext = useAsyncContext();
});
afterAll(() => restoreContext());

const pools: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

function setup(size: number, maxOverflow = 0) {
  const tracing = createTracing();
  const driver = new FakeSqlDriver();
  const pool = createPool(driver, {
    name: 'ctx',
    size,
    maxOverflow,
    telemetry: { tracerProvider: tracing.provider },
  });
  pools.push(pool);
  return { pool, driver, ...tracing };
}

const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

describe('the caller context survives the wait for a connection', () => {
  it.each([1, 2])(
    'pool of %i, 40 concurrent parents: every query span is the child of its own caller',
    async (size) => {
      const { pool, tracer, spans } = setup(size);
      const callers = 40;
      const parents = new Map<number, string>();
      await Promise.all(
        Array.from({ length: callers }, (_, i) =>
          tracer.startActiveSpan(`caller-${i}`, async (span) => {
            parents.set(i, span.spanContext().spanId);
            await pool.use(async (c) => {
              await c.query(`SELECT * FROM t${i} WHERE id = $1`, [i]);
              await c.query(`UPDATE t${i} SET n = n + 1`);
            });
            span.end();
          }),
        ),
      );
      const queries = spans().filter((s) => s.kind === SpanKind.CLIENT);
      expect(queries).toHaveLength(callers * 2);
      for (const q of queries) {
        const i = Number(/t(\d+)/.exec(q.name)![1]);
        expect(parentOf(q), `${q.name} must be a child of caller-${i}`).toBe(parents.get(i));
      }
      // the contention was real: callers waited, and the wait is on the caller's span
      const waited = spans().filter(
        (s) => s.name.startsWith('caller-') && s.events.some((e) => e.name === 'cistern.pool.wait'),
      );
      expect(waited.length).toBeGreaterThan(0);
      const event = waited[0].events.find((e) => e.name === 'cistern.pool.wait')!;
      expect(event.attributes).toMatchObject({ 'db.client.connection.pool.name': 'ctx' });
      expect(event.attributes!['cistern.pool.wait_ms']).toBeGreaterThan(0);
    },
  );

  it('transactions under contention: queries are children of their own transaction span', async () => {
    const { pool, tracer, spans } = setup(1);
    const callers = 20;
    await Promise.all(
      Array.from({ length: callers }, (_, i) =>
        tracer.startActiveSpan(`caller-${i}`, async (span) => {
          await pool.transaction(async (c) => {
            await c.query(`INSERT INTO t${i} (a) VALUES ($1)`, [i]);
          });
          span.end();
        }),
      ),
    );
    const all = spans();
    const byId = new Map(all.map((s) => [s.spanContext().spanId, s]));
    const txs = all.filter((s) => s.name === 'transaction ctx');
    expect(txs).toHaveLength(callers);
    for (const tx of txs) {
      const caller = byId.get(parentOf(tx)!)!;
      expect(caller.name).toMatch(/^caller-\d+$/);
      const i = caller.name.slice('caller-'.length);
      const children = all.filter((s) => parentOf(s) === tx.spanContext().spanId).map((s) => s.name);
      expect(children).toEqual(['BEGIN', `INSERT t${i}`, 'COMMIT']);
    }
  });
});

describe('transaction spans', () => {
  it('INTERNAL span, parent of BEGIN / queries / COMMIT, outcome committed', async () => {
    const { pool, tracer, spans } = setup(1);
    await tracer.startActiveSpan('request', async (span) => {
      await pool.transaction((c) => c.query('SELECT 1'), { isolation: 'serializable', readOnly: true });
      span.end();
    });
    const tx = spans().find((s) => s.name === 'transaction ctx')!;
    const request = spans().find((s) => s.name === 'request')!;
    expect(tx.kind).toBe(SpanKind.INTERNAL);
    expect(parentOf(tx)).toBe(request.spanContext().spanId);
    expect(tx.attributes).toMatchObject({
      'cistern.transaction.outcome': 'committed',
      'cistern.transaction.attempts': 1,
      'cistern.transaction.isolation': 'serializable',
      'cistern.transaction.read_only': true,
      'cistern.transaction.retries': 0,
      'db.client.connection.pool.name': 'ctx',
    });
    const children = spans().filter((s) => parentOf(s) === tx.spanContext().spanId);
    expect(children.map((s) => s.name)).toEqual(['BEGIN', 'SELECT', 'COMMIT']);
    expect(children[0].attributes).toMatchObject({
      'db.operation.name': 'BEGIN',
      'db.query.text': 'BEGIN ISOLATION LEVEL SERIALIZABLE',
    });
    expect(children.every((s) => s.kind === SpanKind.CLIENT)).toBe(true);
    expect(tx.events.map((e) => e.name)).toEqual(['cistern.transaction.attempt']);
  });

  it('a failing function: ROLLBACK child, outcome rolled_back, status ERROR', async () => {
    const { pool, spans } = setup(1);
    const boom = new TypeError('boom');
    await expect(
      pool.transaction(async (c) => {
        await c.query('SELECT 1');
        throw boom;
      }),
    ).rejects.toBe(boom);
    const tx = spans().find((s) => s.name === 'transaction ctx')!;
    expect(tx.status.code).toBe(SpanStatusCode.ERROR);
    expect(tx.attributes).toMatchObject({
      'cistern.transaction.outcome': 'rolled_back',
      'error.type': 'TypeError',
    });
    const children = spans().filter((s) => parentOf(s) === tx.spanContext().spanId);
    expect(children.map((s) => s.name)).toEqual(['BEGIN', 'SELECT', 'ROLLBACK']);
  });

  it('retries are visible: one event per attempt with the previous error, attempts counted', async () => {
    const { pool, driver, spans } = setup(1);
    driver.commitErrors = [
      new FakeSqlError('could not serialize access', SERIALIZATION_FAILURE),
      new FakeSqlError('could not serialize access', SERIALIZATION_FAILURE),
    ];
    await pool.transaction((c) => c.query('UPDATE counters SET n = n + 1'), { retries: 3 });
    const tx = spans().find((s) => s.name === 'transaction ctx')!;
    expect(tx.attributes).toMatchObject({
      'cistern.transaction.outcome': 'committed',
      'cistern.transaction.attempts': 3,
      'cistern.transaction.retries': 3,
    });
    expect(tx.status.code).toBe(SpanStatusCode.UNSET);
    expect(tx.events.map((e) => e.attributes)).toEqual([
      { 'cistern.transaction.attempt': 1 },
      { 'cistern.transaction.attempt': 2, 'error.type': '40001', 'db.response.status_code': '40001' },
      { 'cistern.transaction.attempt': 3, 'error.type': '40001', 'db.response.status_code': '40001' },
    ]);
    const children = spans().filter((s) => parentOf(s) === tx.spanContext().spanId);
    expect(children.map((s) => s.name)).toEqual([
      'BEGIN',
      'UPDATE counters',
      'COMMIT',
      'ROLLBACK',
      'BEGIN',
      'UPDATE counters',
      'COMMIT',
      'ROLLBACK',
      'BEGIN',
      'UPDATE counters',
      'COMMIT',
    ]);
    const failedCommits = children.filter(
      (s) => s.name === 'COMMIT' && s.status.code === SpanStatusCode.ERROR,
    );
    expect(failedCommits).toHaveLength(2);
  });

  it('retries exhausted: outcome rolled_back with the last error', async () => {
    const { pool, driver, spans } = setup(1);
    driver.commitErrors = [
      new FakeSqlError('could not serialize access', SERIALIZATION_FAILURE),
      new FakeSqlError('could not serialize access', SERIALIZATION_FAILURE),
    ];
    await expect(pool.transaction((c) => c.query('SELECT 1'), { retries: 1 })).rejects.toBeInstanceOf(
      FakeSqlError,
    );
    const tx = spans().find((s) => s.name === 'transaction ctx')!;
    expect(tx.attributes).toMatchObject({
      'cistern.transaction.outcome': 'rolled_back',
      'cistern.transaction.attempts': 2,
      'error.type': '40001',
    });
  });

  it('a transaction that never got a connection: outcome failed', async () => {
    const { pool, spans } = setup(1);
    const conn = await pool.acquire();
    await expect(pool.transaction((c) => c.query('SELECT 1'), { timeoutMs: 5 })).rejects.toMatchObject({
      code: 'POOL_TIMEOUT',
    });
    pool.release(conn);
    const tx = spans().find((s) => s.name === 'transaction ctx')!;
    expect(tx.attributes).toMatchObject({
      'cistern.transaction.outcome': 'failed',
      'error.type': 'POOL_TIMEOUT',
    });
    expect(spans().filter((s) => parentOf(s) === tx.spanContext().spanId)).toHaveLength(0);
  });

  it("another pool's work inside a transaction is nested but not counted as the transaction's", async () => {
    const { pool: a, spans, provider } = setup(1);
    const b = createPool(new FakeSqlDriver({ database: 'other' }), {
      name: 'other',
      size: 1,
      maxOverflow: 0,
      telemetry: { tracerProvider: provider },
    });
    pools.push(b);
    const held = await b.acquire();
    await a.use(async () => {}); // a's connection is open: its transaction will not wait
    await a.transaction(async (c) => {
      const waiting = b.use((other) => other.query('SELECT * FROM elsewhere'));
      await new Promise((r) => setImmediate(r));
      b.release(held);
      await waiting;
      await c.query('SELECT 1');
    });
    const tx = spans().find((s) => s.name === 'transaction ctx')!;
    // b's wait is an event on the active span (a's transaction), not a's own wait
    expect(tx.attributes['cistern.pool.wait_ms']).toBeUndefined();
    expect(tx.events.map((e) => e.name)).toContain('cistern.pool.wait');
    const children = spans().filter((s) => parentOf(s) === tx.spanContext().spanId);
    expect(children.map((s) => s.name)).toEqual(['BEGIN', 'SELECT elsewhere', 'SELECT', 'COMMIT']);
  });

  it('the wait for the connection is recorded on the transaction span', async () => {
    const { pool, spans } = setup(1);
    const conn = await pool.acquire();
    const tx = pool.transaction((c) => c.query('SELECT 1'));
    await new Promise((r) => setImmediate(r));
    pool.release(conn);
    await tx;
    const span = spans().find((s) => s.name === 'transaction ctx')!;
    expect(span.attributes['cistern.pool.wait_ms']).toBeGreaterThan(0);
  });
});
