/**
 * cistern's pool metrics in Prometheus: a pool on PostgreSQL exporting through
 * @opentelemetry/exporter-prometheus (a scrape endpoint on :9464/metrics), some
 * load, and the query log on the side. Run:
 *
 *   npx tsx examples/prometheus.ts                 # DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test
 *   curl -s localhost:9464/metrics | grep db_client_connection
 *
 * and point Prometheus at it (prometheus.yml):
 *
 *   scrape_configs:
 *     - job_name: cistern
 *       scrape_interval: 5s
 *       static_configs: [{ targets: ['localhost:9464'] }]
 *
 * Queries: db_client_connection_count{db_client_connection_state="used"},
 * histogram_quantile(0.99, rate(db_client_connection_wait_time_bucket[1m])).
 * Stops by itself after --seconds (default 60).
 */
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { postgres } from '../src/drivers/postgres/index.js';
import { createPool } from '../src/index.js';

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const seconds = Number(process.argv[process.argv.indexOf('--seconds') + 1]) || 60;

const exporter = new PrometheusExporter({ port: 9464 }); // serves /metrics
const meterProvider = new MeterProvider({ readers: [exporter] });

const pool = createPool(postgres(url), {
  name: 'example',
  size: 5,
  maxOverflow: 5,
  // pass the provider, or register it globally (metrics.setGlobalMeterProvider) and omit this
  telemetry: { meterProvider, logQueries: { thresholdMs: 100, level: 'warn' } },
});

async function main(): Promise<void> {
  console.log(`metrics on http://localhost:9464/metrics for ${seconds} s`);
  const until = Date.now() + seconds * 1000;
  // 16 callers on 5 (+5) connections: some wait, so the wait-time histogram fills in
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (Date.now() < until) {
        await pool.use((c) => c.sql`select pg_sleep(${Math.random() / 50})`);
      }
    }),
  );
  await pool.close();
  await meterProvider.shutdown(); // also stops the exporter's server
}

void main();
