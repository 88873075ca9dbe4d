/**
 * Connection lifecycle seen from the server: recycling by maxLifetimeMs changes
 * CONNECTION_ID() and ends the old session; overflow connections end on check-in
 * (information_schema.processlist, filtered by a per-test user); pool.close()
 * leaves no session behind.
 */
import type { Connection } from 'mariadb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MariadbConnection, mariadb } from '../../src/drivers/mariadb/index.js';
import { createPool } from '../../src/index.js';
import {
  adminConnection,
  createTestUser,
  eventually,
  sessionsOf,
  type TestUser,
} from '../support/mariadb-admin.js';
import { MARIADB_URL, serverAvailable } from '../support/servers.js';

const available = await serverAvailable('MariaDB', MARIADB_URL, 'MARIADB_URL');

describe.skipIf(!available)('mariadb driver: lifecycle seen from the server', () => {
  let admin: Connection;
  let account: TestUser;

  beforeAll(async () => {
    admin = await adminConnection();
    account = await createTestUser(admin, 'cistern_life');
  });

  afterAll(async () => {
    await account?.drop();
    await admin?.end();
  });

  it('maxLifetimeMs recycles: CONNECTION_ID() changes and the old session ends', async () => {
    const pool = createPool(mariadb(account.url), {
      size: 1,
      maxOverflow: 0,
      maxLifetimeMs: 300,
      telemetry: false,
    });
    const recycled: string[] = [];
    pool.on('close', ({ reason }) => recycled.push(reason));
    try {
      const first = await pool.use(async (c: MariadbConnection) => {
        const [row] = await c.query('SELECT CONNECTION_ID() AS id');
        return Number(row.id);
      });
      const next = await eventually(
        () =>
          pool.use(async (c) => {
            const [row] = await c.query('SELECT CONNECTION_ID() AS id');
            return Number(row.id);
          }),
        (id) => id !== first,
      );
      expect(next).not.toBe(first);
      expect(recycled).toContain('recycled');
      const sessions = await eventually(
        () => sessionsOf(admin, account.user),
        (ids) => !ids.includes(first),
      );
      expect(sessions).not.toContain(first);
      expect(sessions).toContain(next);
    } finally {
      await pool.close();
    }
  });

  it('overflow connections are closed on check-in; the server sees them go', async () => {
    const pool = createPool(mariadb(account.url), { size: 1, maxOverflow: 3, telemetry: false });
    try {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const held: number[] = [];
      const holders = Array.from({ length: 4 }, () =>
        pool.use(async (c) => {
          held.push(c.threadId);
          await gate;
          return c.threadId;
        }),
      );
      await eventually(
        async () => held.length,
        (n) => n === 4,
      );
      expect(pool.stats().overflow).toBe(3);
      const during = await sessionsOf(admin, account.user);
      expect(during.sort()).toEqual([...held].sort());
      release();
      await Promise.all(holders);
      const after = await eventually(
        () => sessionsOf(admin, account.user),
        (ids) => ids.length === 1,
      );
      expect(after).toHaveLength(1);
      expect(held).toContain(after[0]);
      expect(pool.stats().size).toBe(1);
    } finally {
      await pool.close();
    }
    const left = await eventually(
      () => sessionsOf(admin, account.user),
      (ids) => ids.length === 0,
    );
    expect(left).toEqual([]);
  });
});
