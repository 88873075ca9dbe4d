/**
 * diagnostics_channel with cistern/mongodb, no OpenTelemetry SDK registered: the
 * driver's commands on the `cistern:query` tracing channel (start, end, asyncStart,
 * asyncEnd, error with the server's code) and the pool's events on
 * `cistern:pool:*`, never a filter or document value. Against the wire-protocol
 * test server (and MONGODB_URL when set).
 */
import dc from 'node:diagnostics_channel';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type MongoConnection, mongodb } from '../../src/drivers/mongodb/index.js';
import {
  createPool,
  POOL_CHANNELS,
  type Pool,
  type PoolChannelMessages,
  QUERY_CHANNEL,
  type QueryMessage,
} from '../../src/index.js';
import { type MongoTarget, mongoTargets, uniqueName } from '../support/mongo-targets.js';

const SECRET = 'mongo-chan-secret-4711';

type Event = 'start' | 'end' | 'asyncStart' | 'asyncEnd' | 'error';
const EVENTS: Event[] = ['start', 'end', 'asyncStart', 'asyncEnd', 'error'];

/** A message as a subscriber could log it: errors with their name, code and message. */
function copy(message: unknown): string {
  return JSON.stringify(message, (_k, v) =>
    v instanceof Error ? { ...v, name: v.name, code: (v as { code?: unknown }).code, message: v.message } : v,
  );
}

function recordQueries() {
  const seen: { event: Event; message: QueryMessage; copy: string }[] = [];
  const handlers = Object.fromEntries(
    EVENTS.map((event) => [
      event,
      (message: QueryMessage) => seen.push({ event, message, copy: copy(message) }),
    ]),
  ) as unknown as dc.TracingChannelSubscribers<object>;
  const channel = dc.tracingChannel(QUERY_CHANNEL);
  channel.subscribe(handlers);
  return { seen, stop: () => channel.unsubscribe(handlers) };
}

type PoolEvent = keyof PoolChannelMessages;

function recordPool() {
  const seen: { event: PoolEvent; message: PoolChannelMessages[PoolEvent]; copy: string }[] = [];
  const subscriptions = (Object.keys(POOL_CHANNELS) as PoolEvent[]).map((event) => {
    const handler = (message: unknown) =>
      seen.push({ event, message: message as PoolChannelMessages[PoolEvent], copy: copy(message) });
    dc.subscribe(POOL_CHANNELS[event], handler);
    return () => dc.unsubscribe(POOL_CHANNELS[event], handler);
  });
  return {
    seen,
    stop: () => {
      for (const s of subscriptions) s();
    },
  };
}

describe.each(mongoTargets)('diagnostics channels with cistern/mongodb against the $label', (spec) => {
  let target: MongoTarget | undefined;
  let pool: Pool<MongoConnection> | undefined;
  // subscribed before the pool exists, so its first connects are seen too
  const pools = recordPool();
  let queries: ReturnType<typeof recordQueries>;

  beforeAll(async () => {
    target = await spec.start();
    if (target) {
      pool = createPool(mongodb(target.url, { closeTimeoutMs: 500 }), {
        name: 'chan-mongo',
        size: 2,
        maxOverflow: 0,
        minIdle: 1,
      });
      await pool.ready();
    }
  });
  afterAll(async () => {
    pools.stop();
    await pool?.close();
    await target?.stop();
  });
  beforeEach((ctx) => {
    if (!target) ctx.skip();
    target?.server?.reset();
    queries = recordQueries();
  });
  afterEach(() => queries.stop());

  it('commands publish start/end/asyncStart/asyncEnd with the operation, collection and pool, no values', async () => {
    const name = uniqueName('chan');
    await pool!.use(async (c) => {
      await c.collection(name).insertOne({ email: SECRET, n: 1 });
      const found = await c.collection(name).findOne({ email: SECRET });
      expect(found?.n).toBe(1);
      await c.collection(name).updateOne({ email: SECRET }, { $set: { n: 2, note: SECRET } });
    });
    const mine = queries.seen.filter((s) => s.message.collection === name);
    const starts = mine.filter((s) => s.event === 'start').map((s) => s.message);
    expect(starts.map((m) => m.operation)).toEqual(['insert', 'find', 'update']);
    for (const m of starts) {
      expect(m).toMatchObject({
        pool: 'chan-mongo',
        driver: 'mongodb',
        system: 'mongodb',
        database: pool!.driver.target.database,
        text: undefined,
      });
      expect(m.connectionId).toBeGreaterThan(0);
    }
    // the tracePromise order for each command, on one message object per command
    for (const m of starts) {
      expect(mine.filter((s) => s.message === m).map((s) => s.event)).toEqual([
        'start',
        'end',
        'asyncStart',
        'asyncEnd',
      ]);
      expect(m.durationMs).toBeGreaterThanOrEqual(0);
    }
    expect(mine.map((s) => s.copy).join('\n')).not.toContain(SECRET);
    expect(copy(queries.seen)).not.toContain(SECRET);
  });

  it('a failing command publishes error with the server’s code, and no filter value', async (ctx) => {
    if (!target?.server) ctx.skip(); // the fail point exists on the test server only
    const name = uniqueName('chanfail');
    target!.server!.failCommand('find', { code: 11601, codeName: 'Interrupted', errmsg: 'interrupted' });
    await expect(pool!.use((c) => c.collection(name).findOne({ email: SECRET }))).rejects.toMatchObject({
      code: 11601,
    });
    const mine = queries.seen.filter((s) => s.message.collection === name);
    expect(mine.map((s) => s.event)).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
    expect((mine[2].message.error as { code?: unknown }).code).toBe(11601);
    expect(mine.map((s) => s.copy).join('\n')).not.toContain(SECRET);
  });

  it('the pool’s events reach cistern:pool:* with the pool’s name, no values', async () => {
    const before = pools.seen.length;
    const name = uniqueName('chanpool');
    await pool!.use((c) => c.collection(name).findOne({ email: SECRET }));
    const events = pools.seen
      .slice(before)
      .filter((s) => (s.message as { pool: string }).pool === 'chan-mongo');
    const checkout = events.find((s) => s.event === 'checkout')?.message as PoolChannelMessages['checkout'];
    const checkin = events.find((s) => s.event === 'checkin')?.message as PoolChannelMessages['checkin'];
    expect(checkout).toMatchObject({ pool: 'chan-mongo' });
    expect(checkout.connectionId).toBeGreaterThan(0);
    expect(checkout.waitMs).toBeGreaterThanOrEqual(0);
    expect(checkin).toMatchObject({ pool: 'chan-mongo', connectionId: checkout.connectionId });
    expect(checkin.heldMs).toBeGreaterThanOrEqual(0);
    // the connect of the pool's first connection was published too (subscribed before the pool existed)
    expect(pools.seen.some((s) => s.event === 'connect' && s.message.pool === 'chan-mongo')).toBe(true);
    expect(pools.seen.map((s) => s.copy).join('\n')).not.toContain(SECRET);
  });
});
