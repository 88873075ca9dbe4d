/**
 * Query observation for MongoDB: one `observer.start` per user command from the
 * driver's command monitoring, in the caller's async context (checked with
 * AsyncLocalStorage directly, under contention, so spans parent correctly), and
 * never a document's contents.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type MongoConnection, mongodb } from '../../src/drivers/mongodb/index.js';
import type { ConnectionMeta, QueryInfo, QueryObserver } from '../../src/pool/driver.js';
import { Pool } from '../../src/pool/pool.js';
import { connectContext } from '../support/mongo-context.js';
import { type MongoTarget, mongoTargets, uniqueName } from '../support/mongo-targets.js';

interface Seen {
  info: QueryInfo;
  meta: ConnectionMeta;
  store: unknown;
  ended: boolean;
  error?: unknown;
}

function recordingObserver(als?: AsyncLocalStorage<unknown>): QueryObserver & { seen: Seen[] } {
  const seen: Seen[] = [];
  return {
    seen,
    start(info, meta) {
      const entry: Seen = { info, meta, store: als?.getStore(), ended: false };
      seen.push(entry);
      return {
        end(error) {
          if (entry.ended) throw new Error('scope ended twice');
          entry.ended = true;
          entry.error = error;
        },
      };
    },
  };
}

/** A pool whose instrumentation is just `observer` (the core's hook, without OpenTelemetry). */
function observedPool(url: string, observer: QueryObserver, size: number): Pool<MongoConnection> {
  return new Pool(mongodb(url), { size, maxOverflow: 0, telemetry: {} }, () => ({ observer }));
}

describe.each(mongoTargets)('mongodb command observation against the $label', (spec) => {
  let target: MongoTarget | undefined;
  const pools: Pool<MongoConnection>[] = [];

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
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((p) => p.close({ timeoutMs: 2000 })));
  });

  it('starts one scope per user command with operation, collection and database, and no text', async () => {
    const observer = recordingObserver();
    const pool = observedPool(target!.url, observer, 1);
    pools.push(pool);
    const name = uniqueName('obs');
    await pool.use(async (c) => {
      await c.collection(name).insertOne({ secret: 'do-not-log-me' });
      await c.collection(name).findOne({ secret: 'do-not-log-me' });
      await c.collection(name).updateOne({ secret: 'do-not-log-me' }, { $set: { n: 1 } });
      await c.collection(name).deleteOne({ secret: 'do-not-log-me' });
      await c.db('otherdb').collection(name).findOne({});
    });
    const user = observer.seen.filter((s) => s.info.collection === name);
    expect(user.map((s) => s.info.operation)).toEqual(['insert', 'find', 'update', 'delete', 'find']);
    expect(user.map((s) => s.info.namespace)).toEqual(
      ['test', 'test', 'test', 'test', 'otherdb'].map((db) =>
        db === 'test' ? pool.driver.target.database : db,
      ),
    );
    for (const s of user) {
      expect(s.info.text).toBeUndefined();
      expect(s.ended).toBe(true);
      expect(s.error).toBeUndefined();
      expect(s.meta.target.system).toBe('mongodb');
    }
    // handshakes, heartbeats, pings and endSessions are not the user's commands
    const ops = observer.seen.map((s) => s.info.operation);
    for (const skipped of ['hello', 'isMaster', 'ismaster', 'ping', 'endSessions'])
      expect(ops).not.toContain(skipped);
    expect(JSON.stringify(observer.seen.map((s) => s.info))).not.toContain('do-not-log-me');
  });

  it('keeps the caller’s async context under contention (16 callers, 4 connections)', async () => {
    const als = new AsyncLocalStorage<{ caller: number }>();
    const observer = recordingObserver(als);
    const pool = observedPool(target!.url, observer, 4);
    pools.push(pool);
    const prefix = uniqueName('als');
    const callers = Array.from({ length: 16 }, (_, caller) => caller);
    await Promise.all(
      callers.map((caller) =>
        als.run({ caller }, () =>
          pool.use(async (c) => {
            await c.collection(`${prefix}_${caller}`).findOne({});
            await c.collection(`${prefix}_${caller}`).insertOne({ caller });
          }),
        ),
      ),
    );
    const user = observer.seen.filter((s) => s.info.collection?.startsWith(prefix));
    expect(user).toHaveLength(32);
    for (const s of user) {
      const caller = Number(s.info.collection!.slice(prefix.length + 1));
      expect(s.store).toEqual({ caller });
    }
    expect(new Set(user.map((s) => s.meta.connectionId)).size).toBeGreaterThan(1);
    await pool.use(async (c) => {
      for (const caller of callers) await c.collection(`${prefix}_${caller}`).drop();
    });
  });

  it('keeps the caller’s context when callers queue inside one MongoClient (one connection, 8 callers)', async () => {
    const als = new AsyncLocalStorage<{ caller: number }>();
    const observer = recordingObserver(als);
    const driver = mongodb(target!.url);
    const conn = await driver.connect(connectContext({ observer }));
    try {
      const prefix = uniqueName('one');
      // all at once on the same client: its pool (maxPoolSize 1) queues them and hands the
      // connection over from inside another caller's check-in
      await Promise.all(
        Array.from({ length: 8 }, (_, caller) =>
          als.run({ caller }, () => conn.collection(`${prefix}_${caller}`).findOne({})),
        ),
      );
      const user = observer.seen.filter((s) => s.info.collection?.startsWith(prefix));
      expect(user).toHaveLength(8);
      for (const s of user)
        expect(s.store).toEqual({ caller: Number(s.info.collection!.slice(prefix.length + 1)) });
    } finally {
      await driver.close(conn);
    }
  });

  it('does not turn on command monitoring without an observer', async () => {
    const driver = mongodb(target!.url);
    const conn = await driver.connect(connectContext());
    try {
      expect(conn.raw.options.monitorCommands).toBe(false);
    } finally {
      await driver.close(conn);
    }
  });
});

describe('mongodb command observation against the test server: failures', () => {
  let target: MongoTarget;

  beforeAll(async () => {
    target = (await mongoTargets[0].start())!;
  });
  afterAll(async () => {
    await target.stop();
  });

  it('ends the scope with the server error (its code is the response status) and survives a throwing observer', async () => {
    const observer = recordingObserver();
    const driver = mongodb(target.url);
    const conn = await driver.connect(connectContext({ observer }));
    target.server!.failCommand('find', { code: 11601, codeName: 'Interrupted', errmsg: 'interrupted' });
    await expect(conn.collection('f').findOne({})).rejects.toMatchObject({ code: 11601 });
    const failed = observer.seen.find((s) => s.info.operation === 'find');
    expect(failed?.ended).toBe(true);
    expect(failed?.error).toMatchObject({ name: 'MongoServerError', code: 11601 });

    const throwing: QueryObserver = {
      start() {
        throw new Error('observer bug');
      },
    };
    const conn2 = await driver.connect(connectContext({ observer: throwing }));
    await expect(conn2.collection('f').findOne({})).resolves.toBeNull();
    await driver.close(conn2);
    await driver.close(conn);
  });

  it('fails the scope of an acknowledged write whose document failed, with the code only', async () => {
    const observer = recordingObserver();
    const driver = mongodb(target.url);
    const conn = await driver.connect(connectContext({ observer }));
    await conn.collection('dup').insertOne({ _id: 'k' as never });
    await expect(conn.collection('dup').insertOne({ _id: 'k' as never })).rejects.toMatchObject({
      code: 11000,
    });
    const inserts = observer.seen.filter((s) => s.info.operation === 'insert');
    expect(inserts.map((s) => s.error)).toEqual([undefined, expect.objectContaining({ code: 11000 })]);
    expect((inserts[1].error as Error).message).not.toContain('dup');
    await driver.close(conn);
  });

  it('ends an open scope with an error when the socket dies mid-command', async () => {
    const observer = recordingObserver();
    const driver = mongodb(target.url, { retryReads: false });
    const conn = await driver.connect(connectContext({ observer }));
    target.server!.failCommand('find', { closeConnection: true });
    await expect(conn.collection('f').findOne({})).rejects.toMatchObject({ name: 'MongoNetworkError' });
    const failed = observer.seen.find((s) => s.info.operation === 'find');
    expect(failed?.ended).toBe(true);
    expect(failed?.error).toMatchObject({ name: 'MongoNetworkError' });
    await driver.close(conn);
  });
});
