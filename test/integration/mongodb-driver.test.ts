/**
 * The MongoDB driver on its own (Driver interface, no pool): connect, CRUD, ping,
 * death detection, close, connect failures. Runs against the wire-protocol test
 * server always, and against MONGODB_URL too when it is set.
 */
import util from 'node:util';
import { ObjectId } from 'mongodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type MongoConnection, MongoConnectionLostError, mongodb } from '../../src/drivers/mongodb/index.js';
import { parseMongoUrl } from '../../src/drivers/mongodb/url.js';
import type { Driver } from '../../src/pool/driver.js';
import { isPoolError } from '../../src/pool/errors.js';
import { connectContext, until } from '../support/mongo-context.js';
import { type MongoTarget, mongoTargets, uniqueName } from '../support/mongo-targets.js';

describe.each(mongoTargets)('mongodb driver against the $label', (spec) => {
  let target: MongoTarget | undefined;
  let driver: Driver<MongoConnection>;
  const open: MongoConnection[] = [];

  async function connect(ctx = connectContext()): Promise<MongoConnection> {
    const conn = await driver.connect(ctx);
    open.push(conn);
    return conn;
  }

  beforeAll(async () => {
    target = await spec.start();
    if (target) driver = mongodb(target.url);
  });
  afterAll(async () => {
    await Promise.all(open.map((c) => driver.close(c)));
    await target?.stop();
  });
  beforeEach((ctx) => {
    if (!target) ctx.skip();
    target?.server?.reset();
  });

  it('describes its target without a password', () => {
    const { hosts } = parseMongoUrl(target!.url);
    expect(driver.name).toBe('mongodb');
    expect(driver.target).toMatchObject({ system: 'mongodb', host: hosts[0].host });
    if (target!.server) {
      const d = mongodb(target!.url.replace('://', '://alice:pa55word@'));
      expect(d.target).toEqual({
        system: 'mongodb',
        host: '127.0.0.1',
        port: target!.server.address.port,
        database: 'test',
        user: 'alice',
      });
      expect(JSON.stringify(d.target)).not.toContain('pa55word');
    }
  });

  it('connects eagerly and runs CRUD through collection()', async () => {
    const conn = await connect();
    const name = uniqueName('crud');
    const col = conn.collection<{ _id: ObjectId; name: string; n: number }>(name);
    const id = new ObjectId();
    await col.insertOne({ _id: id, name: 'ada', n: 1 });
    await col.insertMany([
      { _id: new ObjectId(), name: 'bob', n: 2 },
      { _id: new ObjectId(), name: 'cy', n: 2 },
    ]);
    expect(await col.findOne({ _id: id })).toEqual({ _id: id, name: 'ada', n: 1 });
    expect((await col.find({ n: 2 }).toArray()).map((d) => d.name).sort()).toEqual(['bob', 'cy']);
    expect((await col.updateOne({ _id: id }, { $set: { n: 5 } })).modifiedCount).toBe(1);
    expect((await col.findOne({ _id: id }))?.n).toBe(5);
    expect(await col.countDocuments({ n: 2 })).toBe(2);
    expect((await col.deleteMany({ n: 2 })).deletedCount).toBe(2);
    expect(await col.countDocuments({})).toBe(1);
    expect(conn.db().databaseName).toBe(driver.target.database);
    expect(conn.db('other').databaseName).toBe('other');
    await col.drop();
  });

  it('pings with a real round trip', async () => {
    const conn = await connect();
    const before = target!.server?.commands.length ?? 0;
    expect(await driver.ping(conn)).toBe(true);
    if (target!.server) {
      expect(target!.server.commands.slice(before).map((c) => c.name)).toContain('ping');
    }
    expect(driver.isAlive!(conn)).toBe(true);
  });

  it('reports server errors that are not disconnects', async () => {
    const conn = await connect();
    const error = await conn
      .db()
      .command({ cisternNoSuchCommand: 1 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'MongoServerError', code: 59 });
    expect(driver.isDisconnect(error)).toBe(false);
    expect(await driver.ping(conn)).toBe(true);
  });

  it('rejects a transaction with an SQL isolation level', async () => {
    const conn = await connect();
    await expect(driver.runTransaction!(conn, { isolation: 'serializable' }, async () => 1)).rejects.toThrow(
      /no SQL isolation levels/,
    );
  });

  it('closes without rejecting, also a second time', async () => {
    const conn = await driver.connect(connectContext());
    await driver.close(conn);
    await driver.close(conn);
    await expect(conn.collection('x').findOne({})).rejects.toThrow();
  });
});

describe('mongodb driver against the test server: sockets, death, failures', () => {
  let target: MongoTarget;
  const driver = () => mongodb(target.url, { closeTimeoutMs: 200 });

  beforeAll(async () => {
    target = (await mongoTargets[0].start())!;
  });
  afterAll(async () => {
    await target.stop();
  });
  beforeEach(() => target.server!.reset());

  it('holds two sockets per pooled connection (the pooled one and the polling monitor) and closes both', async () => {
    const server = target.server!;
    await until(() => server.connectionCount === 0, 5000, 'earlier sockets to close');
    const d = driver();
    const conns = [await d.connect(connectContext()), await d.connect(connectContext())];
    // minPoolSize 1 keeps the pooled socket; nothing else should appear
    await conns[0].collection('x').findOne({});
    expect(server.connectionCount).toBe(4);
    await Promise.all(conns.map((c) => d.close(c)));
    await until(() => server.connectionCount === 0, 5000, 'sockets to close');
    expect(server.connectionCount).toBe(0);
  });

  it('calls onDead and turns isAlive false when the server drops the socket, though the client would reconnect', async () => {
    const d = driver();
    const ctx = connectContext();
    const conn = await d.connect(ctx);
    expect(d.isAlive!(conn)).toBe(true);
    target.server!.dropAll();
    const error = await ctx.dead;
    expect(error).toBeInstanceOf(MongoConnectionLostError);
    expect(d.isDisconnect(error)).toBe(true);
    expect(d.isAlive!(conn)).toBe(false);
    expect(await d.ping(conn)).toBe(false);
    expect(ctx.deadCalls).toHaveLength(1);
    await d.close(conn);
  });

  it('does not call onDead for its own close', async () => {
    const d = driver();
    const ctx = connectContext();
    const conn = await d.connect(ctx);
    await d.close(conn);
    await conn
      .collection('x')
      .findOne({})
      .catch(() => {});
    expect(ctx.deadCalls).toHaveLength(0);
  });

  it('a socket dropped mid-command rejects with a disconnect error', async () => {
    const d = mongodb(target.url, { retryReads: false });
    const ctx = connectContext();
    const conn = await d.connect(ctx);
    target.server!.failCommand('find', { closeConnection: true });
    const error = await conn
      .collection('x')
      .findOne({})
      .catch((e: unknown) => e);
    expect((error as Error).name).toBe('MongoNetworkError');
    expect(d.isDisconnect(error)).toBe(true);
    await ctx.dead;
    expect(d.isAlive!(conn)).toBe(false);
    await d.close(conn);
  });

  it('a failing ping rejects or resolves false, never true', async () => {
    const d = mongodb(target.url, { pingTimeoutMs: 300 });
    const conn = await d.connect(connectContext());
    target.server!.stallNext(1, 'ping');
    const outcome = await d.ping(conn).catch((e: unknown) => e);
    expect(outcome).not.toBe(true);
    await d.close(conn);
  });

  it('closes within closeTimeoutMs when the server stalls, with a cursor left open', async () => {
    const d = driver();
    const conn = await d.connect(connectContext());
    target.server!.stall(true);
    const pending = conn
      .collection('x')
      .findOne({})
      .catch(() => 'failed');
    await d.close(conn);
    expect(await pending).toBe('failed');
    target.server!.stall(false);
  });

  it('times out connecting to a stalled server with a ConnectError', async () => {
    target.server!.stall(true);
    const d = driver();
    const error = await d.connect(connectContext({ timeoutMs: 300 })).catch((e: unknown) => e);
    target.server!.stall(false);
    expect(isPoolError(error)).toBe(true);
    expect(error).toMatchObject({ name: 'ConnectError', code: 'CONNECT_FAILED' });
    expect((error as Error).message).toContain(`127.0.0.1:${target.server!.address.port}`);
  });

  it('rejects at once when the signal aborts', async () => {
    target.server!.stall(true);
    const d = driver();
    const ctx = connectContext({ timeoutMs: 60_000 });
    const attempt = d.connect(ctx).catch((e: unknown) => e);
    await until(() => target.server!.connectionCount > 0, 5000, 'the connect attempt');
    const reason = new Error('pool gave up');
    ctx.abort.abort(reason);
    const error = await attempt;
    target.server!.stall(false);
    expect(error).toMatchObject({ name: 'ConnectError', cause: reason });
  });

  it('never shows the password: unreachable port, stalled server, failed authentication', async () => {
    const secret = 'Sup3r$ecret/pw';
    const enc = encodeURIComponent(secret);
    const port = target.server!.address.port;
    const urls = [
      `mongodb://carol:${enc}@127.0.0.1:1/test`,
      `mongodb://carol:${enc}@127.0.0.1:${port}/test?authSource=admin`,
    ];
    const errors: unknown[] = [];
    for (const url of urls) {
      errors.push(
        await mongodb(url, { closeTimeoutMs: 200 })
          .connect(connectContext({ timeoutMs: 400 }))
          .catch((e: unknown) => e),
      );
    }
    target.server!.stall(true);
    errors.push(
      await mongodb(urls[1], { closeTimeoutMs: 200 })
        .connect(connectContext({ timeoutMs: 300 }))
        .catch((e: unknown) => e),
    );
    target.server!.stall(false);
    for (const error of errors) {
      expect(error).toMatchObject({ name: 'ConnectError' });
      const text = [
        (error as Error).message,
        (error as Error).stack,
        util.inspect(error, { depth: 12, showHidden: false }),
        JSON.stringify(error),
      ].join('\n');
      expect(text).toContain('carol:***@');
      expect(text).not.toContain(secret);
      expect(text).not.toContain(enc);
    }
    // the authentication failure reached the server and came back as such
    expect(String((errors[1] as Error).message)).toMatch(/Authentication failed/);
  });

  it('configures each client: one pooled connection, a polling monitor, a direct connection, the pool timeout', async () => {
    const d = driver();
    const conn = await d.connect(connectContext({ timeoutMs: 4321 }));
    expect(conn.raw.options).toMatchObject({
      maxPoolSize: 1,
      minPoolSize: 1,
      serverMonitoringMode: 'poll',
      directConnection: true,
      serverSelectionTimeoutMS: 4321,
      connectTimeoutMS: 4321,
      monitorCommands: false,
    });
    await d.close(conn);
    // the URL's own choices win over the pool's defaults
    const custom = mongodb(`${target.url}?serverSelectionTimeoutMS=1234&directConnection=false`);
    const conn2 = await custom.connect(connectContext({ timeoutMs: 4321 }));
    expect(conn2.raw.options).toMatchObject({
      serverSelectionTimeoutMS: 1234,
      connectTimeoutMS: 4321,
      directConnection: false,
    });
    await custom.close(conn2);
  });

  it('rejects pool-owned options', () => {
    expect(() => mongodb(target.url, { maxPoolSize: 5 } as never)).toThrow(/maxPoolSize cannot be set/);
    expect(() => mongodb(target.url, { pingTimeoutMs: -1 })).toThrow(/pingTimeoutMs/);
  });
});
