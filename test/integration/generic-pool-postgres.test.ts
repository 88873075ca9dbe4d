// generic-pool's classic use, a pool of database clients, on a real PostgreSQL: the same
// cases run against the real generic-pool and against cistern/generic-pool.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { impls, type PoolLike } from '../support/generic-pool-impls.js';
import { PG_URL, serverAvailable } from '../support/servers.js';

let available = false;
let admin: pg.Client | undefined;

beforeAll(async () => {
  available = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');
  if (!available) return;
  admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
});

afterAll(async () => {
  await admin?.end();
});

async function backends(app: string): Promise<number[]> {
  const res = await admin!.query<{ pid: number }>(
    'select pid from pg_stat_activity where application_name = $1 order by pid',
    [app],
  );
  return res.rows.map((r) => r.pid);
}

/** The backends of `app` once closed connections have left pg_stat_activity (a backend exits just after its client). */
async function backendsSettled(app: string): Promise<number[]> {
  let pids = await backends(app);
  for (let i = 0; i < 50 && pids.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 20));
    pids = await backends(app);
  }
  return pids;
}

function clientFactory(app: string) {
  let created = 0;
  let destroyed = 0;
  return {
    get created() {
      return created;
    },
    get destroyed() {
      return destroyed;
    },
    create: async (): Promise<pg.Client> => {
      const client = new pg.Client({ connectionString: PG_URL, application_name: app });
      client.on('error', () => {}); // a terminated backend: validate() finds out
      await client.connect();
      created++;
      return client;
    },
    destroy: async (client: pg.Client): Promise<void> => {
      destroyed++;
      await client.end().catch(() => {});
    },
    validate: async (client: pg.Client): Promise<boolean> => {
      try {
        await client.query('select 1');
        return true;
      } catch {
        return false;
      }
    },
  };
}

describe.each(impls)('generic-pool over PostgreSQL clients ($name)', (impl) => {
  let n = 0;
  const appName = () => `cistern-gp-${impl.name}-${process.pid}-${++n}`;

  async function stop(pool: PoolLike<pg.Client>): Promise<void> {
    await pool.drain();
    await pool.clear();
  }

  it('serves 30 concurrent queries on at most max connections', async (ctx) => {
    if (!available) ctx.skip();
    const app = appName();
    const factory = clientFactory(app);
    const pool = impl.createPool(factory, { max: 3, acquireTimeoutMillis: 10_000 });
    const pids = await Promise.all(
      Array.from({ length: 30 }, () =>
        pool.use(async (c) => (await c.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0].pid),
      ),
    );
    expect(new Set(pids).size).toBeLessThanOrEqual(3);
    expect(factory.created).toBeLessThanOrEqual(3);
    expect((await backends(app)).length).toBeLessThanOrEqual(3);
    await stop(pool);
    expect(factory.destroyed).toBe(factory.created);
    expect(await backendsSettled(app)).toEqual([]);
  });

  it('parameters travel separately from the SQL text', async (ctx) => {
    if (!available) ctx.skip();
    const pool = impl.createPool(clientFactory(appName()), { max: 1 });
    const hostile = "'); drop table users; --";
    const echoed = await pool.use(
      async (c) => (await c.query<{ v: string }>('select $1::text as v', [hostile])).rows[0].v,
    );
    expect(echoed).toBe(hostile);
    await stop(pool);
  });

  it('testOnBorrow replaces a client whose backend was terminated', async (ctx) => {
    if (!available) ctx.skip();
    const app = appName();
    const factory = clientFactory(app);
    const pool = impl.createPool(factory, { max: 1, testOnBorrow: true, acquireTimeoutMillis: 10_000 });
    const first = await pool.acquire();
    const pid = (await first.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0].pid;
    await pool.release(first);
    await admin!.query('select pg_terminate_backend($1)', [pid]);
    for (let i = 0; i < 50 && (await backends(app)).includes(pid); i++)
      await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 20));
    const next = await pool.acquire();
    expect(next).not.toBe(first);
    const nextPid = (await next.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0].pid;
    expect(nextPid).not.toBe(pid);
    await pool.release(next);
    await stop(pool);
    expect(factory.destroyed).toBe(factory.created);
    expect(await backendsSettled(app)).toEqual([]);
  });

  it('drain and clear close every connection, min included', async (ctx) => {
    if (!available) ctx.skip();
    const app = appName();
    const factory = clientFactory(app);
    const pool = impl.createPool(factory, { max: 4, min: 2 });
    await pool.ready();
    expect((await backends(app)).length).toBeGreaterThanOrEqual(2);
    const held = await pool.acquire();
    const draining = pool.drain();
    await pool.release(held);
    await draining;
    await pool.clear();
    expect(factory.destroyed).toBe(factory.created);
    expect(await backendsSettled(app)).toEqual([]);
  });
});
