/**
 * The MongoDB driver through the pool (`createPool(mongodb(url))`): CRUD, pre-ping,
 * dropped sockets, connect failures, recycling, transactions. Runs against the
 * wire-protocol test server always, and against MONGODB_URL too when it is set;
 * fault tests need the test server's controls and run there only.
 */
import util from 'node:util';
import { ObjectId } from 'mongodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type MongoConnection,
  MongoTransactionsUnsupportedError,
  mongodb,
} from '../../src/drivers/mongodb/index.js';
import { createPool, type Pool, type PoolEvents } from '../../src/index.js';
import { until } from '../support/mongo-context.js';
import { type MongoTarget, mongoTargets, uniqueName } from '../support/mongo-targets.js';

/** Let the pool's coarse clock move on, so the last use is older than prePingWindowMs 0. */
const nextTick = () => new Promise((resolve) => setTimeout(resolve, 5));

const pools: Pool<MongoConnection>[] = [];
function track(pool: Pool<MongoConnection>): Pool<MongoConnection> {
  pools.push(pool);
  return pool;
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close({ timeoutMs: 2000 })));
});

function record<K extends keyof PoolEvents>(pool: Pool<MongoConnection>, event: K): PoolEvents[K][] {
  const seen: PoolEvents[K][] = [];
  pool.on(event, (payload) => seen.push(payload));
  return seen;
}

describe.each(mongoTargets)('mongodb pool against the $label', (spec) => {
  let target: MongoTarget | undefined;

  beforeAll(async () => {
    target = await spec.start();
  });
  afterAll(async () => {
    await target?.stop();
  });
  beforeEach((ctx) => {
    if (!target) ctx.skip();
    target?.server?.reset();
  });

  it('serves CRUD through pool.use under concurrency, never beyond size + maxOverflow', async () => {
    const pool = track(createPool(mongodb(target!.url), { size: 3, maxOverflow: 1, telemetry: false }));
    const name = uniqueName('pool_crud');
    const ids = Array.from({ length: 40 }, () => new ObjectId());
    await Promise.all(ids.map((id, i) => pool.use((c) => c.collection(name).insertOne({ _id: id, i }))));
    const found = await Promise.all(
      ids.map((id) => pool.use((c) => c.collection(name).findOne({ _id: id }))),
    );
    expect(found.map((d) => d?.i)).toEqual(ids.map((_, i) => i));
    expect(pool.stats().size).toBeLessThanOrEqual(4);
    await pool.use((c) => c.collection(name).drop());
  });

  it('pings before handing out an idle connection', async () => {
    const pool = track(createPool(mongodb(target!.url), { size: 1, prePingWindowMs: 0, telemetry: false }));
    await pool.use((c) => c.db().command({ ping: 1 }));
    await nextTick();
    const before = target!.server?.commands.filter((c) => c.name === 'ping').length ?? 0;
    await pool.use((c) => c.collection(uniqueName('pp')).findOne({}));
    if (target!.server) {
      expect(target!.server.commands.filter((c) => c.name === 'ping').length).toBe(before + 1);
    }
  });

  it('runs pool.transaction: commits, or says plainly that a standalone cannot', async () => {
    const pool = track(createPool(mongodb(target!.url), { size: 2, telemetry: false }));
    const name = uniqueName('tx');
    await pool.use((c) =>
      c
        .db()
        .createCollection(name)
        .catch(() => undefined),
    );
    const run = pool.transaction(async (tx) => {
      expect(tx.session).toBeDefined();
      await tx.collection(name).insertOne({ _id: 'a' as never, v: 1 }, { session: tx.session });
      return 'done';
    });
    if (target!.transactions) {
      await expect(run).resolves.toBe('done');
      expect(await pool.use((c) => c.collection(name).countDocuments({}))).toBe(1);
      // a throw aborts: nothing of it stays
      await expect(
        pool.transaction(async (tx) => {
          await tx.collection(name).insertOne({ _id: 'b' as never }, { session: tx.session });
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await pool.use((c) => c.collection(name).countDocuments({}))).toBe(1);
    } else {
      const error = await run.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MongoTransactionsUnsupportedError);
      expect((error as Error).message).toMatch(/replica set/);
      expect((error as { code: string }).code).toBe('MONGODB_TRANSACTIONS_UNSUPPORTED');
      // the connection stays usable
      expect(await pool.use((c) => c.collection(name).countDocuments({}))).toBe(0);
    }
    await pool.use((c) =>
      c
        .collection(name)
        .drop()
        .catch(() => undefined),
    );
  });

  it('recycles connections after maxLifetimeMs: a new client, new server connections', async () => {
    const pool = track(createPool(mongodb(target!.url), { size: 1, maxLifetimeMs: 150, telemetry: false }));
    const closes = record(pool, 'close');
    const name = uniqueName('recycle');
    const since = target!.server?.commands.length ?? 0;
    const first = await pool.use(async (c) => {
      await c.collection(name).findOne({});
      return c.raw;
    });
    const firstIds = target!.server?.connectionIdsFor('find', since);
    await until(() => closes.some((e) => e.reason === 'recycled'), 10_000, 'a recycled close event');
    const second = await pool.use(async (c) => {
      await c.collection(name).findOne({});
      return c.raw;
    });
    expect(second).not.toBe(first);
    if (target!.server) {
      const ids = target!.server.connectionIdsFor('find', since);
      expect(ids.size).toBe(2);
      for (const id of firstIds!) expect(ids.has(id)).toBe(true);
    }
  });

  it('closes every client with the pool', async () => {
    const pool = createPool(mongodb(target!.url), { size: 3, telemetry: false });
    const clients = await Promise.all([1, 2, 3].map(() => pool.use(async (c) => c.raw)));
    expect(clients.length).toBe(3);
    await pool.close();
    await expect(clients[0].db().command({ ping: 1 })).rejects.toThrow();
  });
});

describe('mongodb pool against the test server: faults', () => {
  let target: MongoTarget;

  beforeAll(async () => {
    target = (await mongoTargets[0].start())!;
  });
  afterAll(async () => {
    await target.stop();
  });
  beforeEach(() => target.server!.reset());

  it('pre-ping catches a dropped socket and hands out a fresh connection', async () => {
    const server = target.server!;
    const pool = track(
      createPool(mongodb(target.url, { closeTimeoutMs: 300 }), {
        size: 1,
        prePingWindowMs: 0,
        telemetry: false,
      }),
    );
    const first = await pool.use(async (c) => c.raw);
    await nextTick();
    // the pre-ping's socket is closed by the server as the ping arrives
    server.failCommand('ping', { closeConnection: true });
    const since = server.commands.length;
    const closes = record(pool, 'close');
    const second = await pool.use(async (c) => {
      await c.collection('x').findOne({});
      return c.raw;
    });
    expect(second).not.toBe(first);
    // the ping reached the server (which cut its socket), and the pool discarded that connection
    expect(server.commands.slice(since).find((c) => c.name === 'ping')?.unanswered).toBe(true);
    expect(closes.map((e) => e.reason)).toContain('invalidated');
  });

  it('a server that drops every socket: onDead retires the connection, the next caller is served', async () => {
    const server = target.server!;
    const pool = track(
      createPool(mongodb(target.url, { closeTimeoutMs: 300 }), { size: 1, telemetry: false }),
    );
    const first = await pool.use(async (c) => {
      await c.collection('x').findOne({});
      return c.raw;
    });
    const since = server.commands.length;
    const idsBefore = new Set(server.openConnectionIds());
    server.dropAll();
    const closes = record(pool, 'close');
    await until(() => closes.length > 0, 5000, 'the pool to retire the dead connection');
    const second = await pool.use(async (c) => {
      await c.collection('x').findOne({});
      return c.raw;
    });
    expect(second).not.toBe(first);
    const idsAfter = server.connectionIdsFor('find', since);
    expect([...idsAfter].some((id) => !idsBefore.has(id))).toBe(true);
  });

  it('a socket dropped mid-command: a clear error, the connection invalidated, the next caller served', async () => {
    const server = target.server!;
    const pool = track(
      createPool(mongodb(target.url, { retryReads: false, closeTimeoutMs: 300 }), {
        size: 1,
        telemetry: false,
      }),
    );
    const invalidated = record(pool, 'invalidate');
    const first = await pool.use(async (c) => c.raw);
    server.failCommand('find', { closeConnection: true });
    const error = await pool.use((c) => c.collection('x').findOne({})).catch((e: unknown) => e);
    expect((error as Error).name).toBe('MongoNetworkError');
    expect(pool.driver.isDisconnect(error)).toBe(true);
    expect(invalidated).toHaveLength(1);
    const second = await pool.use(async (c) => {
      await c.collection('x').findOne({});
      return c.raw;
    });
    expect(second).not.toBe(first);
  });

  it("the driver's own retry hides a dropped socket from the caller, but not from the pool", async () => {
    const server = target.server!;
    const pool = track(
      createPool(mongodb(target.url, { closeTimeoutMs: 300 }), { size: 1, telemetry: false }),
    );
    const closes = record(pool, 'close');
    const first = await pool.use(async (c) => c.raw);
    server.failCommand('find', { closeConnection: true });
    // retryReads: the MongoClient reconnects and retries; the caller sees success
    await expect(pool.use((c) => c.collection('x').findOne({}))).resolves.toBeNull();
    await until(() => closes.length > 0, 5000, 'the pool to retire the connection');
    const second = await pool.use(async (c) => c.raw);
    expect(second).not.toBe(first);
  });

  it('a stalled server: acquire fails with a ConnectError naming the target, no password', async () => {
    const server = target.server!;
    server.stall(true);
    const pool = track(
      createPool(mongodb(target.url.replace('://', '://dan:T0p-secret@'), { closeTimeoutMs: 200 }), {
        size: 1,
        connectTimeoutMs: 300,
        acquireTimeoutMs: 3000,
        telemetry: false,
      }),
    );
    const failed = record(pool, 'connectFailed');
    const error = await pool.acquire().catch((e: unknown) => e);
    server.stall(false);
    expect(error).toMatchObject({ code: 'CONNECT_FAILED' });
    const text = `${util.inspect(error, { depth: 12 })}\n${util.inspect(failed, { depth: 12 })}`;
    expect(text).toContain(`127.0.0.1:${server.address.port}`);
    expect(text).not.toContain('T0p-secret');
  });

  it('an unreachable port: acquire fails with a ConnectError, no password', async () => {
    const pool = track(
      createPool(mongodb('mongodb://erin:Hunter2-pw@127.0.0.1:1/test', { closeTimeoutMs: 200 }), {
        size: 1,
        connectTimeoutMs: 400,
        acquireTimeoutMs: 3000,
        telemetry: false,
      }),
    );
    const error = await pool.acquire().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONNECT_FAILED' });
    // a refused single host fails the connect at once, with the reason (no wait for connectTimeoutMs)
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
    const text = util.inspect(error, { depth: 12 });
    expect(text).toContain('erin:***@127.0.0.1:1');
    expect(text).not.toContain('Hunter2-pw');
  });
});
