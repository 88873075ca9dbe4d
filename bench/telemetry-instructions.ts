/**
 * Instructions per query of cistern's telemetry, for callgrind (the machine is
 * shared and loaded, so CPU time moves by a microsecond from run to run; an
 * instruction count does not). One process runs one subject: `WARMUP` queries,
 * then `N` more, one caller, each `pool.use((c) => c.query('select 1'))` on the
 * in-process telemetry fake driver (test/support/telemetry-fake-driver.ts, a
 * `setImmediate` per round trip, no I/O). Run it twice, with N = 0 and N = n, under
 * `valgrind --tool=callgrind`; (Ir(n) - Ir(0)) / n is the subject's instructions
 * per query. `bench/telemetry-instructions.sh` does that for every subject.
 *
 * Subjects:
 * - `off`: `telemetry: false`.
 * - `nosdk`: the default telemetry, `@opentelemetry/api` loaded, no SDK registered.
 * - `als-off`: `telemetry: false` with the AsyncLocalStorage context manager on.
 * - `sdk`: cistern's telemetry into a discarding SDK (bench/lib/discarding-sdk.ts),
 *   context manager on.
 * - `floor`: `telemetry: false`, context manager on, and by hand exactly what the
 *   issue calls the floor: one CLIENT span with the attributes cistern sets,
 *   `db.client.operation.duration` with the span's duration and cistern's metric
 *   attributes, and one value each of `db.client.connection.wait_time` and
 *   `use_time`, with the plainest API calls. The span is started and ended at the
 *   driver's own hook (a hand-made QueryObserver handed to the fake driver),
 *   where cistern's is, so the floor pays for no extra promise.
 *
 * With `pgjs` as the fourth argument the connection is a postgres.js `sql` that
 * never connects (`bench/telemetry-cpu.bench.ts`'s trick: each query's `handler`
 * is a no-op and the query is resolved by hand), seen through cistern's observed
 * `sql` when telemetry is on, and the query is `c.sql\`select 1\``: the same
 * subjects with the postgres.js driver's per-query observation included. The
 * floor then starts its span when the query is run and ends it in the query's
 * `resolve`, as `bench/telemetry.bench.ts` does.
 *
 * Usage: node --expose-gc --import tsx bench/telemetry-instructions.ts <subject> <N> [WARMUP] [fake|pgjs]
 */
import { type Attributes, context, type Span, SpanKind } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import postgresjs from 'postgres';
import { createPool, type Pool, type PoolOptions } from '../src/index.js';
import type { ConnectContext, DriverTarget, QueryObserver, QueryScope } from '../src/pool/driver.js';
import { describeQuery } from '../src/telemetry/attributes.js';
import { type FakeSqlConnection, FakeSqlDriver } from '../test/support/telemetry-fake-driver.js';
import { discardingProviders, floorHistograms } from './lib/discarding-sdk.js';
import { runUnsent, type Sql, unsentPostgresDriver } from './lib/unsent-postgres.js';

const SUBJECTS = ['off', 'nosdk', 'als-off', 'sdk', 'floor'] as const;
type SubjectName = (typeof SUBJECTS)[number];

const subject = process.argv[2] as SubjectName;
const n = Number(process.argv[3]);
const warmup = Number(process.argv[4] ?? 3000);
const driverName = process.argv[5] ?? 'fake';
if (
  !SUBJECTS.includes(subject) ||
  !Number.isInteger(n) ||
  n < 0 ||
  !Number.isInteger(warmup) ||
  (driverName !== 'fake' && driverName !== 'pgjs')
) {
  console.error(
    `usage: telemetry-instructions.ts <${SUBJECTS.join('|')}> <queries, an integer >= 0> [warmup queries] [fake|pgjs]`,
  );
  process.exit(2);
}

const PG_TARGET: DriverTarget = { system: 'postgresql', host: '127.0.0.1', port: 5432, database: 'app' };

/** The fake driver, but connections get `observer` instead of the pool's (the floor's hand-made hook). */
class FloorDriver extends FakeSqlDriver {
  constructor(private readonly observer: QueryObserver) {
    super();
  }
  override connect(ctx: ConnectContext): Promise<FakeSqlConnection> {
    return super.connect({ ...ctx, observer: this.observer });
  }
}

async function main(): Promise<void> {
  // timers an hour long: their work per query would grow with callgrind's slowdown (see discarding-sdk.ts)
  const HOUR = 3_600_000;
  const { tracerProvider, meterProvider } = discardingProviders({
    scheduledDelayMillis: HOUR,
    exportIntervalMillis: HOUR,
  });
  const withAls = subject === 'sdk' || subject === 'floor' || subject === 'als-off';
  if (withAls) {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    context.with(context.active(), () => {}); // promise hooks on, as in any traced app
  }
  const poolName = `instr-${subject}`;
  const options = (telemetry: PoolOptions['telemetry']): PoolOptions => ({
    name: poolName,
    size: 1,
    maxOverflow: 0,
    minIdle: 1,
    prePing: false,
    telemetry,
  });

  let pool: Pool<any>;
  let query: () => Promise<unknown>;
  // never connects: every query's handler is replaced before it runs
  const raw =
    driverName === 'pgjs'
      ? (postgresjs('postgres://bench@127.0.0.1:5432/app', { max: 1 }) as unknown as Sql)
      : undefined;
  if (raw !== undefined && subject === 'floor') {
    const tracer = tracerProvider.getTracer('floor');
    const { operationDuration, waitTime, useTime } = floorHistograms(meterProvider.getMeter('floor'));
    const description = describeQuery({ text: 'select 1' }, PG_TARGET, poolName, true);
    const spanOptions = { kind: SpanKind.CLIENT, attributes: description.spanAttributes };
    const poolAttributes: Attributes = { 'db.client.connection.pool.name': poolName };
    pool = createPool(unsentPostgresDriver(raw, PG_TARGET), options(false));
    query = () => {
      const asked = performance.now();
      return pool.use((c: { sql: Sql }) => {
        const acquired = performance.now();
        waitTime.record((acquired - asked) / 1000, poolAttributes);
        const q = c.sql`select 1`;
        const span = tracer.startSpan(description.spanName, spanOptions, context.active());
        const resolve = q.resolve;
        q.resolve = (rows: unknown) => {
          span.end();
          const d = (span as unknown as { duration: [number, number] }).duration;
          operationDuration.record(d[0] + d[1] / 1e9, description.metricAttributes);
          useTime.record((performance.now() - acquired) / 1000, poolAttributes);
          resolve.call(q, rows); // a method in postgres.js 4, a closure in 3
        };
        return runUnsent(q);
      });
    };
  } else if (raw !== undefined) {
    const telemetry: PoolOptions['telemetry'] =
      subject === 'sdk' ? { tracerProvider, meterProvider } : subject === 'nosdk' ? undefined : false;
    pool = createPool(unsentPostgresDriver(raw, PG_TARGET), options(telemetry));
    query = () => pool.use((c: { sql: Sql }) => runUnsent(c.sql`select 1`));
  } else if (subject === 'floor') {
    const tracer = tracerProvider.getTracer('floor');
    const { operationDuration, waitTime, useTime } = floorHistograms(meterProvider.getMeter('floor'));
    const target = new FakeSqlDriver().target;
    const description = describeQuery({ text: 'select 1' }, target, poolName, true);
    const spanOptions = { kind: SpanKind.CLIENT, attributes: description.spanAttributes };
    const poolAttributes: Attributes = { 'db.client.connection.pool.name': poolName };
    let acquired = 0;
    class FloorScope implements QueryScope {
      constructor(private readonly span: Span) {}
      end(): void {
        const span = this.span;
        span.end();
        const d = (span as unknown as { duration: [number, number] }).duration;
        operationDuration.record(d[0] + d[1] / 1e9, description.metricAttributes);
        useTime.record((performance.now() - acquired) / 1000, poolAttributes);
      }
    }
    const observer: QueryObserver = {
      start: () => new FloorScope(tracer.startSpan(description.spanName, spanOptions, context.active())),
    };
    pool = createPool(new FloorDriver(observer), options(false));
    query = () => {
      const asked = performance.now();
      return pool.use((c: FakeSqlConnection) => {
        acquired = performance.now();
        waitTime.record((acquired - asked) / 1000, poolAttributes);
        return c.query('select 1');
      });
    };
  } else {
    const telemetry: PoolOptions['telemetry'] =
      subject === 'sdk' ? { tracerProvider, meterProvider } : subject === 'nosdk' ? undefined : false;
    pool = createPool(new FakeSqlDriver(), options(telemetry));
    query = () => pool.use((c: FakeSqlConnection) => c.query('select 1'));
  }
  await pool.ready();
  for (let i = 0; i < warmup; i++) await query();
  await tracerProvider.forceFlush();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < n; i++) await query();
  await tracerProvider.forceFlush();
  const cpu = process.cpuUsage(cpu0);
  if (n > 0) console.log(`${subject}: ${((cpu.user + cpu.system) / n).toFixed(2)} µs CPU/query over ${n}`);
  await pool.close();
  if (raw !== undefined)
    await (raw as unknown as { end(o: { timeout: number }): Promise<void> }).end({ timeout: 0 });
  await tracerProvider.shutdown();
  await meterProvider.shutdown();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
