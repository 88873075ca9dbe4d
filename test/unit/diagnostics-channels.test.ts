/**
 * cistern's diagnostics channels: what each publishes, in which order, with which
 * message; nothing published (and no message built) while nobody subscribes.
 * Queries come from the telemetry fake driver, which reports to the pool's query
 * observer exactly as the real drivers do (the integration tests run real servers).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import dc from 'node:diagnostics_channel';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { queryChannel } from '../../src/diagnostics/channels.js';
import { createQueryPublisher } from '../../src/diagnostics/query-publisher.js';
import {
  createPool,
  POOL_CHANNELS,
  type PoolOptions,
  QUERY_CHANNEL,
  type QueryMessage,
  TRANSACTION_CHANNEL,
  type TransactionMessage,
} from '../../src/index.js';
import { FakeSqlDriver, FakeSqlError, SERIALIZATION_FAILURE } from '../support/telemetry-fake-driver.js';

const EVENTS = ['start', 'end', 'asyncStart', 'asyncEnd', 'error'] as const;
type Seen = { event: (typeof EVENTS)[number]; message: object; snapshot: Record<string, unknown> };

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Subscribe to all five channels of a tracing channel; record (a copy of) each message. */
function record(name: string): Seen[] {
  const seen: Seen[] = [];
  const handlers = Object.fromEntries(
    EVENTS.map((event) => [
      event,
      (message: object) =>
        seen.push({ event, message, snapshot: { ...(message as Record<string, unknown>) } }),
    ]),
  ) as unknown as dc.TracingChannelSubscribers<object>;
  const channel = dc.tracingChannel(name);
  channel.subscribe(handlers);
  cleanups.push(() => channel.unsubscribe(handlers));
  return seen;
}

function pool(options: PoolOptions = {}, driver = new FakeSqlDriver()) {
  const p = createPool(driver, { name: 'main', size: 2, ...options });
  cleanups.push(() => p.close());
  return p;
}

describe('cistern:query', () => {
  it('start, end, asyncStart, asyncEnd with one message: pool, driver, connection, target, text; never a value', async () => {
    const seen = record(QUERY_CHANNEL);
    const p = pool();
    await p.use((c) =>
      c.query('SELECT * FROM users WHERE id = $1 AND name = $2', [987654321, 'secret-value']),
    );
    expect(seen.map((s) => s.event)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    expect(new Set(seen.map((s) => s.message)).size).toBe(1);
    const start = seen[0].snapshot;
    expect(start).toMatchObject({
      pool: 'main',
      driver: 'fake-sql',
      connectionId: 1,
      system: 'postgresql',
      database: 'app',
      host: '127.0.0.1',
      port: 5432,
      text: 'SELECT * FROM users WHERE id = $1 AND name = $2',
      durationMs: undefined,
    });
    expect(typeof start.startedAt).toBe('number');
    const done = seen[3].snapshot as unknown as QueryMessage;
    expect(done.durationMs).toBeGreaterThanOrEqual(0);
    expect(done.error).toBeUndefined();
    const all = JSON.stringify(seen.map((s) => s.snapshot));
    expect(all).not.toContain('secret-value');
    expect(all).not.toContain('987654321');
    expect(all).not.toContain('alice'); // the target's user is not published either
  });

  it('text without parameters is sanitized: literals become ?', async () => {
    const seen = record(QUERY_CHANNEL);
    const p = pool();
    await p.use((c) =>
      c.query("SELECT * FROM users WHERE name = 'bob' AND age > 30", [], { unparameterized: true }),
    );
    expect((seen[0].message as QueryMessage).text).toBe('SELECT * FROM users WHERE name = ? AND age > ?');
    expect(JSON.stringify(seen.map((s) => s.snapshot))).not.toContain('bob');
  });

  it('a failure publishes error (with the error) before asyncStart and asyncEnd', async () => {
    const seen = record(QUERY_CHANNEL);
    const p = pool();
    const failure = new FakeSqlError('duplicate key', '23505');
    await expect(p.use((c) => c.query('INSERT INTO t VALUES ($1)', [1], { fail: failure }))).rejects.toBe(
      failure,
    );
    expect(seen.map((s) => s.event)).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
    expect(seen[2].snapshot.error).toBe(failure);
  });

  it('start runs in the caller async context', async () => {
    const als = new AsyncLocalStorage<string>();
    const callers: (string | undefined)[] = [];
    const onStart = () => callers.push(als.getStore());
    dc.subscribe(`tracing:${QUERY_CHANNEL}:start`, onStart);
    cleanups.push(() => void dc.unsubscribe(`tracing:${QUERY_CHANNEL}:start`, onStart));
    const p = pool({ size: 1 });
    await Promise.all(['a', 'b', 'c'].map((who) => als.run(who, () => p.use((c) => c.query('SELECT 1')))));
    expect(callers.sort()).toEqual(['a', 'b', 'c']);
  });

  it('nobody subscribed: no message is built, nothing is published, the scope is a shared no-op', async () => {
    const publisher = createQueryPublisher('p', 'd');
    const meta = { connectionId: 1, target: { system: 'postgresql' } };
    const publish = vi.spyOn(queryChannel.start, 'publish');
    cleanups.push(() => publish.mockRestore());
    const now = vi.spyOn(performance, 'now');
    cleanups.push(() => now.mockRestore());
    expect(publisher.active()).toBe(false);
    const a = publisher.start({ text: 'SELECT 1' }, meta);
    const b = publisher.start({ text: 'SELECT 2' }, meta);
    expect(a).toBe(b);
    a.end();
    expect(publish).not.toHaveBeenCalled();
    expect(now).not.toHaveBeenCalled();
    // (the spy captured the inactive channel's publish: restore it before subscribing)
    publish.mockRestore();

    const seen = record(QUERY_CHANNEL);
    expect(publisher.active()).toBe(true);
    const c = publisher.start({ text: 'SELECT 3' }, meta);
    expect(c).not.toBe(a);
    c.end();
    expect(seen.map((s) => s.event)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
  });

  it('telemetry: false publishes nothing', async () => {
    const seen = record(QUERY_CHANNEL);
    const events: unknown[] = [];
    const onCheckout = (m: unknown) => events.push(m);
    dc.subscribe(POOL_CHANNELS.checkout, onCheckout);
    cleanups.push(() => void dc.unsubscribe(POOL_CHANNELS.checkout, onCheckout));
    const p = pool({ telemetry: false });
    await p.use((c) => c.query('SELECT 1'));
    expect(seen).toEqual([]);
    expect(events).toEqual([]);
  });
});

describe('cistern:transaction', () => {
  it('one message per transaction call: start/end/asyncStart/asyncEnd, outcome committed, its queries inside', async () => {
    const seen = record(TRANSACTION_CHANNEL);
    const queries = record(QUERY_CHANNEL);
    const p = pool();
    const value = await p.transaction(
      async (tx) => {
        await tx.query('UPDATE t SET a = $1', [7]);
        return 'done';
      },
      { isolation: 'serializable' },
    );
    expect(value).toBe('done');
    expect(seen.map((s) => s.event)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    const m = seen[3].snapshot as unknown as TransactionMessage;
    expect(m).toMatchObject({
      pool: 'main',
      driver: 'fake-sql',
      system: 'postgresql',
      isolation: 'serializable',
      retries: 0,
      attempts: 1,
      outcome: 'committed',
    });
    // what the function resolved with is the application's data: never in a message
    expect(seen.every((s) => !('result' in s.snapshot))).toBe(true);
    const texts = queries.filter((q) => q.event === 'start').map((q) => (q.message as QueryMessage).text);
    expect(texts).toEqual(['BEGIN ISOLATION LEVEL SERIALIZABLE', 'UPDATE t SET a = $1', 'COMMIT']);
  });

  it('retries counted in attempts; a failure publishes error and outcome rolled_back', async () => {
    const seen = record(TRANSACTION_CHANNEL);
    const driver = new FakeSqlDriver();
    driver.commitErrors = [new FakeSqlError('could not serialize', SERIALIZATION_FAILURE)];
    const p = pool({}, driver);
    await p.transaction(async (tx) => tx.query('SELECT 1'), { retries: 2 });
    expect((seen.at(-1)!.snapshot as unknown as TransactionMessage).attempts).toBe(2);

    seen.length = 0;
    const failure = new Error('boom');
    await expect(
      p.transaction(async (tx) => {
        await tx.query('SELECT 1');
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(seen.map((s) => s.event)).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
    expect(seen.at(-1)!.snapshot).toMatchObject({ outcome: 'rolled_back', error: failure, attempts: 1 });
  });

  it('an acquire that fails is outcome failed', async () => {
    const seen = record(TRANSACTION_CHANNEL);
    const p = pool();
    await p.close();
    await expect(p.transaction(async () => 1)).rejects.toMatchObject({ code: 'POOL_CLOSED' });
    expect(seen.at(-1)!.snapshot).toMatchObject({ outcome: 'failed' });
  });

  it('a store bound to start is the active store inside the transaction (tracePromise)', async () => {
    const als = new AsyncLocalStorage<string>();
    const channel = dc.tracingChannel(TRANSACTION_CHANNEL);
    channel.start.bindStore(als, (m) => `tx of ${(m as TransactionMessage).pool}`);
    cleanups.push(() => void channel.start.unbindStore(als));
    const p = pool();
    const inside = await p.transaction(async (tx) => {
      await tx.query('SELECT 1');
      return als.getStore();
    });
    expect(inside).toBe('tx of main');
  });
});

describe('cistern:pool:<event>', () => {
  it('publishes each pool event with the pool name', async () => {
    const seen: { event: string; message: Record<string, unknown> }[] = [];
    for (const [event, name] of Object.entries(POOL_CHANNELS)) {
      const fn = (message: unknown) => seen.push({ event, message: message as Record<string, unknown> });
      dc.subscribe(name, fn);
      cleanups.push(() => void dc.unsubscribe(name, fn));
    }
    const p = pool({ maxOverflow: 0, size: 1 });
    await p.use((c) => c.query('SELECT 1'));
    const held = await p.acquire();
    await expect(p.acquire({ timeoutMs: 1 })).rejects.toMatchObject({ code: 'POOL_TIMEOUT' });
    p.release(held);
    p.clear();
    await p.close();
    const events = seen.map((s) => s.event);
    expect(events).toEqual(
      expect.arrayContaining(['connect', 'checkout', 'checkin', 'clear', 'close', 'checkoutFailed']),
    );
    expect(seen.find((s) => s.event === 'checkoutFailed')!.message).toMatchObject({
      pool: 'main',
      reason: 'timeout',
    });
    for (const s of seen) expect(s.message.pool).toBe('main');
    expect(seen.find((s) => s.event === 'checkout')!.message).toMatchObject({
      connectionId: 1,
      waitMs: expect.any(Number),
    });
    expect(seen.find((s) => s.event === 'clear')!.message).toEqual({ pool: 'main', generation: 1 });
  });

  it('an unwatched pool builds no event payload; a subscriber gets every one', async () => {
    const p = pool({ maxOverflow: 0, size: 1 });
    // emit() is where a payload goes; it is built only as emit's argument
    const emit = vi.spyOn(p as unknown as { emit: (...args: unknown[]) => void }, 'emit');
    cleanups.push(() => emit.mockRestore());
    expect(dc.channel(POOL_CHANNELS.checkout).hasSubscribers).toBe(false);
    for (let i = 0; i < 3; i++) p.release(await p.acquire());
    expect(emit).not.toHaveBeenCalled();

    const seen: unknown[] = [];
    const onCheckout = (m: unknown) => seen.push(m);
    dc.subscribe(POOL_CHANNELS.checkout, onCheckout);
    cleanups.push(() => void dc.unsubscribe(POOL_CHANNELS.checkout, onCheckout));
    p.release(await p.acquire());
    expect(seen).toEqual([{ pool: 'main', connectionId: 1, waitMs: expect.any(Number) }]);
    // only the watched event was built: checkin still has no subscriber
    expect(emit.mock.calls.map((call) => call[0])).toEqual(['checkout']);
  });

  it('every pool event has a channel', async () => {
    const { POOL_EVENT_NAMES } = await import('../../src/pool/emitter.js');
    expect(Object.keys(POOL_CHANNELS).sort()).toEqual([...POOL_EVENT_NAMES].sort());
    for (const [event, name] of Object.entries(POOL_CHANNELS)) expect(name).toBe(`cistern:pool:${event}`);
  });
});
