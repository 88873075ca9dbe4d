/**
 * `allowExitOnIdle` on MongoDB: a child process with a pool on the wire-protocol test
 * server (in this process) exits by itself while its connections sit idle, and is kept
 * alive without the option or while a connection is checked out.
 */
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mongodb } from '../../src/drivers/mongodb/index.js';
import { connectContext } from '../support/mongo-context.js';
import { MongoWireServer } from '../support/mongo-wire-server.js';
import { runChild } from '../support/run-child.js';

let server: MongoWireServer;

beforeAll(async () => {
  server = await MongoWireServer.start();
});
afterAll(async () => {
  await server?.close();
});

interface Handle {
  hasRef(): boolean;
}

/** The handles an idle client holds the process with (mongodb 7.x internals, as idle-handles.ts reads them). */
function handlesOf(client: MongoClient): Record<string, Handle | undefined> {
  const servers = (client as any).topology.s.servers as Map<string, any>;
  const [server] = [...servers.values()];
  const [pooled] = [...server.pool.connections];
  return {
    'pooled socket': pooled?.socket?._handle,
    'pool check timer': server.pool.minPoolSizeTimer,
    'monitor socket': server.monitor.connection?.socket?._handle,
    'heartbeat timer': server.monitor.monitorId?.timerId,
  };
}

function refs(client: MongoClient): Record<string, boolean | undefined> {
  return Object.fromEntries(Object.entries(handlesOf(client)).map(([name, h]) => [name, h?.hasRef()]));
}

describe('allowExitOnIdle on MongoDB (wire test server)', () => {
  test('setIdle unrefs the sockets and timers of an idle client and refs them when busy; the client re-creates its timers (hence the sweep)', async () => {
    const driver = mongodb(server.url(), { heartbeatFrequencyMS: 500 });
    const conn = await driver.connect(connectContext());
    try {
      const all = (value: boolean) => ({
        'pooled socket': value,
        'pool check timer': value,
        'monitor socket': value,
        'heartbeat timer': value,
      });
      expect(refs(conn.raw)).toEqual(all(true));
      driver.setIdle!(conn, true);
      expect(refs(conn.raw)).toEqual(all(false));
      // the pool check timer is re-created every 100 ms and the heartbeat timer after each
      // heartbeat (500 ms here): 1.2 s later they are new timers, unref'd by the sweep
      const before = handlesOf(conn.raw);
      await new Promise((resolve) => setTimeout(resolve, 1200));
      const after = handlesOf(conn.raw);
      expect(after['pool check timer']).not.toBe(before['pool check timer']);
      expect(after['heartbeat timer']).not.toBe(before['heartbeat timer']);
      // (whether the newest timer is unref'd yet depends on the sweep's phase: the child
      // process tests below show the process exits; the sockets stay unref'd throughout)
      expect(refs(conn.raw)['monitor socket']).toBe(false);
      expect(refs(conn.raw)['pooled socket']).toBe(false);
      driver.setIdle!(conn, false);
      expect(refs(conn.raw)).toEqual(all(true));
      await conn.collection('exit_on_idle').findOne({});
    } finally {
      await driver.close(conn);
    }
  });

  test('with allowExitOnIdle the process exits by itself while its connections sit idle', async () => {
    // 20 s after serving: ample for a loaded machine; a client that holds the process never exits
    const r = await runChild(
      'test/support/mongo-exit-on-idle-child.ts',
      [server.url(), '1'],
      'served',
      20_000,
      30_000,
    );
    expect(r.stderr).not.toMatch(/Error/);
    // the checkout after 1.5 s of idling (three heartbeats) was served: the pool works after idling
    expect(r.stdout).toContain('served');
    expect(r.stdout).toMatch(/"idle":3/);
    expect(r.state).toBe('exited');
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
  }, 60_000);

  test('without it the idle connections keep the process alive (the check above can fail)', async () => {
    const r = await runChild(
      'test/support/mongo-exit-on-idle-child.ts',
      [server.url(), '0'],
      'served',
      3000,
      30_000,
    );
    expect(r.stdout).toContain('served');
    expect(r.state).toBe('running');
  }, 60_000);

  test('with allowExitOnIdle a checked-out connection keeps the process alive', async () => {
    const r = await runChild(
      'test/support/mongo-exit-on-idle-child.ts',
      [server.url(), '1', 'hold'],
      'holding',
      3000,
      30_000,
    );
    expect(r.stdout).toContain('holding');
    expect(r.stdout).toMatch(/"used":1/);
    expect(r.state).toBe('running');
  }, 60_000);
});
