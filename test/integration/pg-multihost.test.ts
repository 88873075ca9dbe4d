/**
 * Multi-host URLs and target_session_attrs on cistern/pg (issue 14.3): the host list
 * is walked only while a connection is being opened, with libpq's meanings, against
 * real servers — the shared PostgreSQL on 127.0.0.1:5432 behind dead ports, and a
 * plain-text primary with a streaming hot standby from the topology harness.
 */
import net from 'node:net';
import pgLib from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PgClient, type PgConnection, Pool as PgPool, pg } from '../../src/drivers/pg/index.js';
import { pgHostPlan } from '../../src/drivers/pg/pg-hosts.js';
import { ConnectError, createPool, PoolConfigError } from '../../src/index.js';
import {
  multiHostUrl,
  type PgNode,
  pgClusterAvailable,
  startPgPrimary,
  startPgStandby,
} from '../support/pg-cluster.js';
import { adminSql, connectCtx, eventually, PG_URL, terminate } from '../support/postgres.js';
import { serverAvailable } from '../support/servers.js';

const up = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');
const clusterUp = up && (await pgClusterAvailable());
const PG_PORT = Number(new URL(PG_URL).port || 5432);

/** A loopback port nothing listens on (connect is refused). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** PG_URL with these 127.0.0.1 ports as its host list (and a password, when given). */
function hostsUrl(ports: number[], query = '', password?: string): string {
  const u = new URL(PG_URL);
  const auth = `${u.username}${password !== undefined ? `:${password}` : u.password ? `:${u.password}` : ''}@`;
  return `postgres://${auth}${ports.map((p) => `127.0.0.1:${p}`).join(',')}${u.pathname}${query}`;
}

async function serverPort(conn: PgConnection): Promise<number> {
  const { rows } = await conn.query<{ port: number }>('select inet_server_port() as port');
  return rows[0]!.port;
}

async function inRecovery(conn: PgConnection): Promise<boolean> {
  const { rows } = await conn.query<{ r: boolean }>('select pg_is_in_recovery() as r');
  return rows[0]!.r;
}

describe('cistern/pg: reading a multi-host URL (no server)', () => {
  it('splits libpq host lists, keeps the rest of the URL, and names each host with its port', () => {
    const plan = pgHostPlan({
      connectionString:
        'postgres://app:s%40cret@db-1:6432,[::1]:5433,db-3/shop?sslmode=disable&target_session_attrs=primary&connect_timeout=1#x',
    });
    expect(plan.hosts.map((h) => h.label)).toEqual(['db-1:6432', '[::1]:5433', 'db-3:5432']);
    expect(plan.want).toBe('primary');
    expect(plan.perHostTimeoutMs).toBe(2000); // libpq: at least 2 s
    expect(plan.configFor(plan.hosts[1]).connectionString).toBe(
      'postgres://app:s%40cret@[::1]:5433/shop?sslmode=disable&connect_timeout=1#x',
    );
    expect(plan.configFor(plan.hosts[2]).connectionString).toBe(
      'postgres://app:s%40cret@db-3/shop?sslmode=disable&connect_timeout=1#x',
    );
    const single = pgHostPlan({ connectionString: 'postgres://app@db-1/shop?target_session_attrs=any' });
    expect(single.hosts).toEqual([]);
    expect(single.want).toBeUndefined();
    expect(pgHostPlan({ host: 'db-1', target_session_attrs: 'read-only' }).want).toBe('read-only');
    // the password stays non-enumerable in every attempt's config
    const hidden: Record<string, unknown> = { connectionString: 'postgres://a@h1,h2/db' };
    Object.defineProperty(hidden, 'password', { value: 'pw', enumerable: false });
    const copy = pgHostPlan(hidden).configFor(undefined);
    expect(copy.password).toBe('pw');
    expect(Object.keys(copy)).not.toContain('password');
  });
});

describe.skipIf(!up)('cistern/pg: multi-host URLs on the shared server', () => {
  it('a dead first host (refused) is skipped: the connection opens on 127.0.0.1:5432', async () => {
    for (const query of ['', '?target_session_attrs=any', '?target_session_attrs=read-write']) {
      const driver = pg(hostsUrl([await closedPort(), PG_PORT], query));
      const conn = await driver.connect(connectCtx({ timeoutMs: 5000 }));
      try {
        expect(await serverPort(conn)).toBe(PG_PORT);
      } finally {
        await driver.close(conn);
      }
    }
  });

  it('all hosts down: one ConnectError naming each host and why, password masked', async () => {
    const [a, b] = [await closedPort(), await closedPort()];
    const secret = 'pg-multi-Secret-5150';
    const error = await pg(hostsUrl([a, b], '?target_session_attrs=read-write', secret))
      .connect(connectCtx({ timeoutMs: 5000 }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    const message = (error as Error).message;
    expect(message).toContain(`127.0.0.1:${a}: connect ECONNREFUSED`);
    expect(message).toContain(`127.0.0.1:${b}: connect ECONNREFUSED`);
    expect(message).toContain('no host fits target_session_attrs=read-write');
    expect(message).toContain(':***@');
    expect(message).not.toContain(secret);
    const cause = (error as Error).cause as AggregateError;
    expect(cause).toBeInstanceOf(AggregateError);
    expect(cause.errors.map((e: { code?: string }) => e.code)).toEqual(['ECONNREFUSED', 'ECONNREFUSED']);
    expect(JSON.stringify(cause.errors)).not.toContain(secret);
  });

  it('all hosts down through the pg.Pool face: an AggregateError naming each host, no password', async () => {
    const [a, b] = [await closedPort(), await closedPort()];
    const secret = 'pg-face-Secret-8080';
    const pool = new PgPool({ connectionString: hostsUrl([a, b], '', secret), max: 1 });
    try {
      const error = await pool.connect().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AggregateError);
      const message = (error as Error).message;
      expect(message).toContain('no host answered; hosts tried: ');
      expect(message).toContain(`127.0.0.1:${a}: connect ECONNREFUSED`);
      expect(message).toContain(`127.0.0.1:${b}: connect ECONNREFUSED`);
      expect(message).not.toContain(secret);
      expect(pool.totalCount).toBe(0);
    } finally {
      await pool.end();
    }
  });

  it('connect_timeout in the URL bounds each host: a host that never answers is left for the next', async () => {
    // accepts TCP and never says a word: only a per-host timeout gets past it
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => sockets.add(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const driver = pg(hostsUrl([port, PG_PORT], '?connect_timeout=2'));
      const conn = await driver.connect(connectCtx({ timeoutMs: 15_000 }));
      try {
        expect(await serverPort(conn)).toBe(PG_PORT);
        expect(sockets.size).toBe(1);
      } finally {
        await driver.close(conn);
      }
      // without connect_timeout the silent host takes the whole budget
      const error = await pg(hostsUrl([port, PG_PORT]))
        .connect(connectCtx({ timeoutMs: 500 }))
        .catch((e: unknown) => e);
      expect((error as Error).message).toContain(`127.0.0.1:${port}: no answer within`);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('bad input: target_session_attrs, host list and connect_timeout are rejected naming what is allowed', () => {
    const allowed = /not one of any, read-write, read-only, primary, standby, prefer-standby/;
    expect(() => pg(`${PG_URL}?target_session_attrs=writable`)).toThrow(PoolConfigError);
    expect(() => pg(`${PG_URL}?target_session_attrs=writable`)).toThrow(allowed);
    expect(() => pg(PG_URL, { target_session_attrs: 'master' as never })).toThrow(allowed);
    expect(() => new PgPool({ connectionString: `${PG_URL}?target_session_attrs=rw` })).toThrow(allowed);
    expect(() => pg(hostsUrl([PG_PORT]).replace('127.0.0.1', '127.0.0.1:1,'))).toThrow(
      /host list ':5432' in the URL is not host\[:port\]/,
    );
    expect(() => pg(hostsUrl([70000, PG_PORT]))).toThrow(
      /port of '127.0.0.1:70000' in the URL is not 1-65535/,
    );
    expect(() => pg(`${PG_URL}?connect_timeout=soon`)).toThrow(/connect_timeout 'soon'/);
  });

  it('a connection that served never walks to another host when its backend dies', async () => {
    const admin = adminSql();
    const pool = createPool(pg(hostsUrl([await closedPort(), PG_PORT])), {
      size: 1,
      maxOverflow: 0,
      telemetry: false,
    });
    try {
      let first = 0;
      const served = pool.use(async (c) => {
        expect(await serverPort(c)).toBe(PG_PORT);
        first = c.pid;
        // killed while its query runs, so pg reports the server's 57P01 (a query sent after
        // pg already saw the backend go would get pg's own "not queryable" instead)
        // (its error is taken as a value at once: pg may reject it before terminate()'s own
        // round trip returns, and a rejection with no handler yet fails the run)
        const running = c.query('select pg_sleep(30)').then(
          () => new Error('pg_sleep(30) finished: the backend was not terminated'),
          (error: unknown) => error,
        );
        const active = await eventually(async () => {
          const [row] = await admin<{ state: string | null }[]>`
            select state from pg_stat_activity where pid = ${first}`;
          return row?.state === 'active';
        });
        expect(active).toBe(true);
        await terminate(admin, c.pid);
        throw await running;
      });
      // the caller gets the error (no silent move to another host or backend)
      await expect(served).rejects.toMatchObject({ code: '57P01' });
      // the pool opened a new connection for the next caller, walking the list again
      const next = await pool.use(async (c) => ({ pid: c.pid, port: await serverPort(c) }));
      expect(next.port).toBe(PG_PORT);
      expect(next.pid).not.toBe(first);
    } finally {
      await pool.close();
      await admin.end({ timeout: 1 });
    }
  });
});

/** pg.Client counting the queries sent on it (the session check included). */
function countingClient(dropInHotStandby: boolean) {
  return class CountingClient extends pgLib.Client {
    queries = 0;
    constructor(config: Record<string, unknown>) {
      super(config);
      if (dropInHotStandby) {
        // a PostgreSQL before 14 does not report in_hot_standby: the driver must ask instead
        const connection = this.connection as unknown as NodeJS.EventEmitter;
        const emit = connection.emit.bind(connection);
        connection.emit = (name: string | symbol, ...args: unknown[]): boolean =>
          name === 'parameterStatus' &&
          (args[0] as { parameterName?: string }).parameterName === 'in_hot_standby'
            ? true
            : emit(name, ...args);
      }
    }
    override query(...args: unknown[]): any {
      this.queries++;
      return (super.query as (...a: unknown[]) => unknown)(...args);
    }
  };
}

describe.skipIf(!clusterUp)('cistern/pg: target_session_attrs on a primary and its hot standby', () => {
  let primary: PgNode;
  let standby: PgNode;
  beforeAll(async () => {
    primary = await startPgPrimary({ tls: false });
    standby = await startPgStandby(primary);
  });
  afterAll(async () => {
    await standby?.destroy();
    await primary?.destroy();
  });

  async function landsOn(nodes: PgNode[], attrs: string): Promise<{ port: number; standby: boolean }> {
    const driver = pg(multiHostUrl(nodes, { params: { target_session_attrs: attrs } }));
    const conn = await driver.connect(connectCtx({ timeoutMs: 10_000 }));
    try {
      return { port: await serverPort(conn), standby: await inRecovery(conn) };
    } finally {
      await driver.close(conn);
    }
  }

  it('each value goes where libpq sends it', async () => {
    const onPrimary = { port: primary.port, standby: false };
    const onStandby = { port: standby.port, standby: true };
    expect(await landsOn([standby, primary], 'read-write')).toEqual(onPrimary);
    expect(await landsOn([standby, primary], 'primary')).toEqual(onPrimary);
    expect(await landsOn([primary, standby], 'read-only')).toEqual(onStandby);
    expect(await landsOn([primary, standby], 'standby')).toEqual(onStandby);
    expect(await landsOn([primary, standby], 'prefer-standby')).toEqual(onStandby);
    expect(await landsOn([primary], 'prefer-standby')).toEqual(onPrimary);
    expect(await landsOn([standby, primary], 'any')).toEqual(onStandby);
  });

  it("PostgreSQL 14+ reports in_hot_standby: the check costs no query; without it, libpq's query decides", async () => {
    for (const drop of [false, true]) {
      const Client = countingClient(drop);
      const driver = pg(
        multiHostUrl([standby, primary], { params: { target_session_attrs: 'read-write' } }),
        {
          Client,
        },
      );
      const conn = await driver.connect(connectCtx({ timeoutMs: 10_000 }));
      try {
        // the kept client (the primary's): no query with in_hot_standby reported, libpq's one without
        expect((conn.raw as unknown as { queries: number }).queries).toBe(drop ? 1 : 0);
        expect(await inRecovery(conn)).toBe(false);
      } finally {
        await driver.close(conn);
      }
    }
  });

  it('no host fits: one ConnectError naming each host and why', async () => {
    const url = multiHostUrl([standby, standby], { params: { target_session_attrs: 'primary' } });
    const error = await pg(url)
      .connect(connectCtx({ timeoutMs: 10_000 }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as Error).message).toContain(
      `hosts tried: 127.0.0.1:${standby.port}: a hot standby, not primary; 127.0.0.1:${standby.port}: a hot standby, not primary`,
    );
  });

  it('the pg.Pool face passes the URL through: every client lands on the primary, a skipped one is never a client', async () => {
    const pool = new PgPool({
      connectionString: multiHostUrl([standby, primary], { params: { target_session_attrs: 'read-write' } }),
      max: 1,
    });
    const connected: PgClient[] = [];
    pool.on('connect', (client: PgClient) => connected.push(client));
    try {
      const results = await Promise.all([1, 2, 3].map(() => pool.query('select pg_is_in_recovery() as r')));
      expect(results.map((r) => r.rows[0].r)).toEqual([false, false, false]);
      // one client, the primary's: the standby's client was closed during the walk, never pooled
      expect(connected.map((c) => c.port)).toEqual([primary.port]);
      expect(pool.totalCount).toBe(1);
    } finally {
      await pool.end();
    }
  });

  it('a read-only server that is not a standby (default_transaction_read_only=on): read-write skips it, read-only takes it', async () => {
    const readOnly = await startPgPrimary({ tls: false, settings: { default_transaction_read_only: 'on' } });
    try {
      const onReadOnly = { port: readOnly.port, standby: false };
      expect(await landsOn([readOnly, primary], 'read-write')).toEqual({
        port: primary.port,
        standby: false,
      });
      expect(await landsOn([primary, readOnly], 'read-only')).toEqual(onReadOnly);
      // libpq: primary and standby look at recovery only
      expect(await landsOn([readOnly, primary], 'primary')).toEqual(onReadOnly);
      expect(await landsOn([readOnly, standby], 'standby')).toEqual({ port: standby.port, standby: true });
      // without the startup report (servers before 14), libpq's query decides the same
      const Client = countingClient(true);
      const driver = pg(
        multiHostUrl([readOnly, primary], { params: { target_session_attrs: 'read-write' } }),
        {
          Client,
        },
      );
      const conn = await driver.connect(connectCtx({ timeoutMs: 10_000 }));
      try {
        expect(await serverPort(conn)).toBe(primary.port);
      } finally {
        await driver.close(conn);
      }
      const error = await pg(multiHostUrl([readOnly], { params: { target_session_attrs: 'read-write' } }))
        .connect(connectCtx({ timeoutMs: 10_000 }))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectError);
      expect((error as Error).message).toContain(`127.0.0.1:${readOnly.port}: read-only, not read-write`);
    } finally {
      await readOnly.destroy();
    }
  }, 60_000);

  it('prefer-standby with the standby down goes to the primary (last: stops the standby)', async () => {
    await standby.stop({ mode: 'immediate' });
    expect(await landsOn([standby, primary], 'prefer-standby')).toEqual({
      port: primary.port,
      standby: false,
    });
    const error = await pg(multiHostUrl([standby, primary], { params: { target_session_attrs: 'standby' } }))
      .connect(connectCtx({ timeoutMs: 10_000 }))
      .catch((e: unknown) => e);
    expect((error as Error).message).toContain(`127.0.0.1:${standby.port}: connect ECONNREFUSED`);
    expect((error as Error).message).toContain(`127.0.0.1:${primary.port}: read-write, not standby`);
  });
});
