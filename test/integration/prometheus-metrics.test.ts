/**
 * A real Prometheus (Debian's 2.42, fetched by test/support/prometheus.ts) scrapes
 * two pools every second through @opentelemetry/exporter-prometheus: one on the
 * real PostgreSQL, one on the real MariaDB. Asserted through Prometheus's HTTP
 * API: every db.client.connection.* metric with its pool name (and state) labels,
 * the gauges equal to stats() at a quiet moment, the wait/use histograms with
 * their buckets and counts equal to the checkouts each pool made, and the two
 * pools kept apart. Under CI a missing Prometheus fails the test.
 */

import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mariadb } from '../../src/drivers/mariadb/index.js';
import { postgres } from '../../src/drivers/postgres/index.js';
import { createPool, type Pool } from '../../src/index.js';
import {
  type PromSample,
  prometheusBinary,
  type RunningPrometheus,
  startPrometheus,
} from '../support/prometheus.js';
import { IN_CI, MARIADB_URL, PG_URL, serverAvailable } from '../support/servers.js';

function prometheusAvailable(): boolean {
  try {
    prometheusBinary();
    return true;
  } catch (error) {
    if (IN_CI) throw new Error(`CI: ${(error as Error).message}`);
    console.warn(`\n!!!!! SKIPPING the Prometheus test: ${(error as Error).message}\n`);
    return false;
  }
}

const available =
  (await serverAvailable('PostgreSQL', PG_URL, 'PG_URL')) &&
  (await serverAvailable('MariaDB', MARIADB_URL, 'MARIADB_URL')) &&
  prometheusAvailable();

const POOL = 'db_client_connection_pool_name';
const STATE = 'db_client_connection_state';

/** Every db.client.connection.* metric cistern exports, as Prometheus names it. */
const GAUGES = [
  'db_client_connection_count',
  'db_client_connection_idle_max',
  'db_client_connection_idle_min',
  'db_client_connection_limit',
  'db_client_connection_max',
  'db_client_connection_pending_requests',
];
const HISTOGRAMS = [
  'db_client_connection_create_time',
  'db_client_connection_wait_time',
  'db_client_connection_use_time',
];
const COUNTERS = ['db_client_connection_timeouts_total'];

interface Watched {
  pool: Pool<any>;
  checkouts: number;
  checkins: number;
}

function watch(pool: Pool<any>): Watched {
  const w = { pool, checkouts: 0, checkins: 0 };
  pool.on('checkout', () => w.checkouts++);
  pool.on('checkin', () => w.checkins++);
  return w;
}

/** Run `total` queries, `concurrency` at a time (more callers than connections: some wait). */
async function load(w: Watched, total: number, concurrency: number, query: (c: any) => Promise<unknown>) {
  let left = total;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) await w.pool.use(query);
    }),
  );
}

/** Make one acquire time out: hold every connection, ask once more with a short timeout. */
async function forceTimeout(pool: Pool<any>) {
  const max = pool.stats().max;
  const held = await Promise.all(Array.from({ length: max }, () => pool.acquire()));
  await expect(pool.acquire({ timeoutMs: 30 })).rejects.toMatchObject({ code: 'POOL_TIMEOUT' });
  for (const c of held) pool.release(c);
}

function value(samples: PromSample[], labels: Record<string, string>): number | undefined {
  const s = samples.find((x) => Object.entries(labels).every(([k, v]) => x.metric[k] === v));
  return s === undefined ? undefined : Number(s.value[1]);
}

describe.skipIf(!available)('Prometheus scrapes cistern pools', () => {
  let prometheus: RunningPrometheus | undefined;
  let server: http.Server | undefined;
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({ readers: [exporter] });
  const pg = watch(
    createPool(postgres(PG_URL), {
      name: 'prom-pg',
      size: 3,
      maxOverflow: 1,
      minIdle: 1,
      telemetry: { meterProvider },
    }),
  );
  const maria = watch(
    createPool(mariadb(MARIADB_URL), {
      name: 'prom-maria',
      size: 2,
      maxOverflow: 0,
      telemetry: { meterProvider },
    }),
  );
  let held: unknown;

  beforeAll(async () => {
    server = http.createServer((req, res) => exporter.getMetricsRequestHandler(req, res));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    prometheus = await startPrometheus([`127.0.0.1:${port}`]);
  }, 120_000);

  afterAll(async () => {
    if (held !== undefined) pg.pool.release(held);
    await prometheus?.stop();
    await new Promise((resolve) => server?.close(resolve));
    await Promise.all([pg.pool.close(), maria.pool.close()]);
    await meterProvider.shutdown();
  });

  it('every db.client.connection.* metric per pool, the gauges equal stats() at a quiet moment, the histograms count every checkout', async () => {
    const p = prometheus!;
    await Promise.all([
      load(pg, 60, 8, (c) => c.sql`select pg_sleep(0.002)`),
      load(maria, 40, 6, (c) => c.query('SELECT SLEEP(0.002)')),
    ]);
    await forceTimeout(pg.pool);
    await forceTimeout(maria.pool);
    // the quiet moment: nothing running but one connection of prom-pg held
    held = await pg.pool.acquire();
    const quietAt = Date.now() / 1000;
    const stats = { pg: pg.pool.stats(), maria: maria.pool.stats() };
    expect(stats.pg).toMatchObject({ used: 1, pending: 0, connecting: 0 });

    // wait for a scrape taken after the quiet moment
    const deadline = Date.now() + 15_000;
    for (;;) {
      const ts = await p.query(`timestamp(db_client_connection_count{${POOL}="prom-maria",${STATE}="idle"})`);
      if (ts.length > 0 && Number(ts[0].value[1]) > quietAt + 0.05) break;
      if (Date.now() > deadline) throw new Error('no Prometheus scrape after the quiet moment within 15 s');
      await new Promise((r) => setTimeout(r, 250));
    }

    for (const [name, w, s] of [
      ['prom-pg', pg, stats.pg],
      ['prom-maria', maria, stats.maria],
    ] as const) {
      // every metric is there for this pool
      for (const metric of [...GAUGES, ...COUNTERS, ...HISTOGRAMS.map((h) => `${h}_count`)]) {
        const got = await p.query(`${metric}{${POOL}="${name}"}`);
        expect(got.length, `${metric} for ${name}`).toBeGreaterThan(0);
      }
      // the gauges are the pool's stats() at the quiet moment
      const count = await p.query(`db_client_connection_count{${POOL}="${name}"}`);
      expect(count.map((c) => c.metric[STATE]).sort()).toEqual(['idle', 'used']);
      expect(value(count, { [STATE]: 'idle' }), `${name} idle`).toBe(s.idle);
      expect(value(count, { [STATE]: 'used' }), `${name} used`).toBe(s.used);
      const one = async (metric: string) => value(await p.query(`${metric}{${POOL}="${name}"}`), {});
      expect(await one('db_client_connection_pending_requests')).toBe(s.pending);
      expect(await one('db_client_connection_max')).toBe(s.max);
      expect(await one('db_client_connection_limit')).toBe(s.max);
      expect(await one('db_client_connection_idle_max')).toBe(w.pool.options.size);
      expect(await one('db_client_connection_idle_min')).toBe(w.pool.options.minIdle);
      expect(await one('db_client_connection_timeouts_total')).toBe(1);
      // the histograms: one wait per checkout, one use per checkin, with real buckets
      expect(await one('db_client_connection_wait_time_count')).toBe(w.checkouts);
      expect(await one('db_client_connection_use_time_count')).toBe(w.checkins);
      for (const h of ['db_client_connection_wait_time', 'db_client_connection_use_time']) {
        const buckets = await p.query(`${h}_bucket{${POOL}="${name}"}`);
        const bounds = buckets.map((b) => b.metric.le);
        expect(bounds, `${h} buckets for ${name}`).toContain('+Inf');
        expect(bounds.length, `${h} bucket count`).toBeGreaterThan(5);
        const cumulative = buckets
          .map((b) => [
            b.metric.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(b.metric.le),
            Number(b.value[1]),
          ])
          .sort((a, b) => a[0] - b[0]);
        for (let i = 1; i < cumulative.length; i++)
          expect(cumulative[i][1]).toBeGreaterThanOrEqual(cumulative[i - 1][1]);
        expect(cumulative.at(-1)![1]).toBe(h.endsWith('wait_time') ? w.checkouts : w.checkins);
      }
    }
    // apart: each pool's series carry its own figures (sizes 3 and 2, different checkout counts)
    const idleMax = await p.query('db_client_connection_idle_max');
    expect(value(idleMax, { [POOL]: 'prom-pg' })).toBe(3);
    expect(value(idleMax, { [POOL]: 'prom-maria' })).toBe(2);
    expect(pg.checkouts).not.toBe(maria.checkouts);
    const waits = await p.query('db_client_connection_wait_time_count');
    expect(waits.map((w) => w.metric[POOL]).sort()).toEqual(['prom-maria', 'prom-pg']);
  }, 60_000);

  it('stops Prometheus by its pid and removes its directory', async () => {
    const p = prometheus!;
    await p.stop();
    expect(() => process.kill(p.pid, 0)).toThrow(/ESRCH/);
    const res = await fetch(`${p.url}/-/ready`).catch((error: unknown) => error);
    expect(res).toBeInstanceOf(Error);
    expect(existsSync(p.dir)).toBe(false);
  });
});
