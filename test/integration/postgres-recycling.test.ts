/** Connection lifecycle seen from the server: recycling by age, overflow closed at check-in. */
import { afterAll, describe, expect, it } from 'vitest';
import { type PgConnection, postgres } from '../../src/drivers/postgres/index.js';
import { createPool, type Pool } from '../../src/index.js';
import { adminSql, appName, backendPids, eventually, PG_URL } from '../support/postgres.js';
import { serverAvailable } from '../support/servers.js';

const up = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');

const pidOf = (pool: Pool<PgConnection>) => pool.use((c) => c.pid);

describe.skipIf(!up)('postgres through the pool: lifecycle seen in pg_stat_activity', () => {
  const admin = adminSql();
  afterAll(() => admin.end({ timeout: 1 }));

  it('maxLifetimeMs recycles connections: the backend pid changes and the old backend is gone', async () => {
    const application = appName('lifetime');
    const pool = createPool(postgres(PG_URL, { applicationName: application }), {
      telemetry: false,
      size: 1,
      maxOverflow: 0,
      maxLifetimeMs: 200,
    });
    const reasons: string[] = [];
    pool.on('close', (e) => reasons.push(e.reason));
    try {
      const first = await pidOf(pool);
      expect(await backendPids(admin, application)).toEqual([first]);
      // bounded: wait for the recycle to be observable from the server
      let second = first;
      const changed = await eventually(async () => {
        second = await pidOf(pool);
        return second !== first;
      }, 5000);
      expect(changed).toBe(true);
      expect(reasons).toContain('recycled');
      expect(await eventually(async () => !(await backendPids(admin, application)).includes(first))).toBe(
        true,
      );
    } finally {
      await pool.close();
    }
    expect(await eventually(async () => (await backendPids(admin, application)).length === 0)).toBe(true);
  });

  it('overflow connections are closed on check-in, and the server sees them go', async () => {
    const application = appName('overflow');
    const pool = createPool(postgres(PG_URL, { applicationName: application }), {
      telemetry: false,
      size: 2,
      maxOverflow: 3,
    });
    const reasons: string[] = [];
    pool.on('close', (e) => reasons.push(e.reason));
    try {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let inside = 0;
      const holders = Array.from({ length: 5 }, () =>
        pool.use(async (c) => {
          inside++;
          await gate;
          return c.pid;
        }),
      );
      await expect.poll(() => inside, { timeout: 5000 }).toBe(5);
      const during = await backendPids(admin, application);
      expect(during).toHaveLength(5);
      expect(pool.stats().overflow).toBe(3);
      release();
      const pids = await Promise.all(holders);
      expect(new Set(pids).size).toBe(5);
      expect(await eventually(async () => (await backendPids(admin, application)).length === 2)).toBe(true);
      expect(reasons.filter((r) => r === 'overflow')).toHaveLength(3);
      const kept = await backendPids(admin, application);
      expect(kept.every((p) => pids.includes(p))).toBe(true);
    } finally {
      await pool.close();
    }
    expect(await eventually(async () => (await backendPids(admin, application)).length === 0)).toBe(true);
  });
});
