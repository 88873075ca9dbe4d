/**
 * `allowExitOnIdle` on cistern/pg through createPool: a child process with a pool on the
 * real PostgreSQL exits by itself while its connections sit idle, and is kept alive
 * without the option or while a connection is checked out. (The pg.Pool face handles
 * pg's own `allowExitOnIdle` itself: test/peer/pg-pool.)
 */
import { describe, expect, test } from 'vitest';
import { Pool, pg } from '../../src/drivers/pg/index.js';
import { connectCtx, PG_URL } from '../support/postgres.js';
import { runChild } from '../support/run-child.js';
import { serverAvailable } from '../support/servers.js';

const up = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');

describe.skipIf(!up)('allowExitOnIdle on cistern/pg', () => {
  test('setIdle unrefs the client socket while idle and refs it when busy', async () => {
    const driver = pg(PG_URL);
    const conn = await driver.connect(connectCtx());
    try {
      const socket = (conn.raw as unknown as { connection: { stream: { _handle: { hasRef(): boolean } } } })
        .connection.stream;
      expect(socket._handle.hasRef()).toBe(true);
      driver.setIdle!(conn, true);
      expect(socket._handle.hasRef()).toBe(false);
      driver.setIdle!(conn, false);
      expect(socket._handle.hasRef()).toBe(true);
      const result = await conn.query<{ one: number }>('select 1 as one');
      expect(result.rows[0]?.one).toBe(1);
    } finally {
      await driver.close(conn);
    }
    // a closed connection's socket is left alone (no throw)
    expect(() => driver.setIdle!(conn, true)).not.toThrow();
  });

  test("the pg.Pool face unrefs its own clients for pg's allowExitOnIdle and does not turn on the core's hook too", async () => {
    const face = new Pool({ connectionString: PG_URL, max: 1, allowExitOnIdle: true });
    try {
      // the driver's setIdle is never called for the face's clients: one owner of ref/unref
      expect(face.cistern.options.allowExitOnIdle).toBe(false);
      const client = await face.connect();
      const handle = (client as unknown as { connection: { stream: { _handle: { hasRef(): boolean } } } })
        .connection.stream._handle;
      expect(handle.hasRef()).toBe(true);
      expect(client.release).toBeTypeOf('function');
      client.release?.();
      expect(handle.hasRef()).toBe(false);
    } finally {
      await face.end();
    }
  });

  test('with allowExitOnIdle the process exits by itself while its connections sit idle', async () => {
    // 20 s after serving: ample for a loaded machine; a socket that holds the process never lets it exit
    const r = await runChild(
      'test/support/pg-exit-on-idle-child.ts',
      [PG_URL, '1'],
      'served',
      20_000,
      30_000,
    );
    expect(r.stderr).not.toMatch(/Error/);
    // the checkout after idling was served: the pool works after its sockets were unref'd
    expect(r.stdout).toContain('served');
    expect(r.stdout).toMatch(/"idle":3/);
    expect(r.state).toBe('exited');
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
  }, 60_000);

  test('without it the idle connections keep the process alive (the check above can fail)', async () => {
    const r = await runChild('test/support/pg-exit-on-idle-child.ts', [PG_URL, '0'], 'served', 3000, 30_000);
    expect(r.stdout).toContain('served');
    expect(r.state).toBe('running');
  }, 60_000);

  test('with allowExitOnIdle a checked-out connection keeps the process alive', async () => {
    const r = await runChild(
      'test/support/pg-exit-on-idle-child.ts',
      [PG_URL, '1', 'hold'],
      'holding',
      3000,
      30_000,
    );
    expect(r.stdout).toContain('holding');
    expect(r.stdout).toMatch(/"used":1/);
    expect(r.state).toBe('running');
  }, 60_000);
});
