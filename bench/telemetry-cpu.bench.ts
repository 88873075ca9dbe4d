/**
 * cistern's own share of telemetry CPU, without any I/O (no server needed): the
 * work cistern does per query next to the plainest SDK calls recording the same
 * data, so the difference is cistern's and not the SDK's. `telemetry.bench.ts`
 * measures the same through a real PostgreSQL, where I/O and a busy machine hide
 * differences of a microsecond.
 *
 * Two paths, each with the AsyncLocalStorage context manager on in every subject:
 *
 * - query: a postgres.js query object through cistern's `sql` (the Proxy and the
 *   per-query observation, with the SDK, or with no SDK registered), next to the
 *   raw postgres.js query and to the raw query with a hand-made CLIENT span and
 *   `db.client.operation.duration` value carrying the attributes cistern sets. The
 *   query is never sent: its postgres.js `handler` is replaced by a no-op and it is
 *   resolved by hand with an empty result (postgres.js internals, bench only).
 * - pool: `pool.use` on a driver with no I/O, `telemetry: false` / cistern's
 *   telemetry with the SDK / no SDK / `telemetry: false` plus the two pool
 *   histogram values cistern records per checkout (wait time, use time) by hand.
 *
 * Each repetition runs every subject once (in a shuffled order, a forced GC before each
 * so no subject pays for the previous one's garbage); the figure is the median
 * client CPU (process.cpuUsage) per operation. Differences are paired: per
 * repetition, then the median. `cisternOwnUs` is cistern minus the hand-made SDK
 * calls (the floor); `sdkUs` the hand-made calls minus the bare baseline. The
 * "A/A control" subjects repeat the baselines: their `overheadUs` is the noise of
 * the run, the resolution below which a difference means nothing.
 */
import { type Attributes, context, SpanKind } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import postgresjs from 'postgres';
import { createPool, type Pool, type PoolOptions } from '../src/index.js';
import type { DriverTarget } from '../src/pool/driver.js';
import { describeQuery } from '../src/telemetry/attributes.js';
import { discardingProviders, floorHistograms } from './lib/discarding-sdk.js';
import { median, round } from './lib/stats.js';
import type { BenchContext, BenchResult, BenchScenario } from './lib/types.js';
import { runUnsent, type Sql, unsentPostgresDriver } from './lib/unsent-postgres.js';

const TARGET: DriverTarget = { system: 'postgresql', host: '127.0.0.1', port: 5432, database: 'bench' };

interface Subject {
  path: 'query' | 'pool';
  name: string;
  op: () => Promise<unknown>;
  cpuUs: number[];
}

const scenario: BenchScenario = {
  name: 'telemetry-cpu',
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    // many short interleaved runs: on a loaded machine the median of 21 is steadier than of 9 long ones
    const repetitions = ctx.quick ? 3 : 21;
    const opsPerRun = ctx.quick ? 3000 : 6000;

    const { tracerProvider, meterProvider } = discardingProviders();
    const manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    context.with(context.active(), () => {});

    // never connects: every query's handler is replaced before it runs
    const raw = postgresjs(`postgres://bench@${TARGET.host}:${TARGET.port}/${TARGET.database}`, {
      max: 1,
    }) as unknown as Sql;
    const driver = unsentPostgresDriver(raw, TARGET);
    const poolOf = (name: string, telemetry: PoolOptions['telemetry']): Pool<{ sql: Sql }> =>
      createPool(driver, { name, size: 1, maxOverflow: 0, minIdle: 1, prePing: false, telemetry });
    const pools = {
      off: poolOf('cpu-off', false),
      offAgain: poolOf('cpu-off-again', false),
      sdk: poolOf('cpu-sdk', { tracerProvider, meterProvider }),
      noSdk: poolOf('cpu-nosdk', undefined),
    };

    const tracer = tracerProvider.getTracer('bench-hand-made');
    const meter = meterProvider.getMeter('bench-hand-made');
    const { operationDuration, waitTime, useTime } = floorHistograms(meter);
    const description = describeQuery({ text: 'select 1' }, TARGET, 'cpu-sdk', true);
    const spanOptions = { kind: SpanKind.CLIENT, attributes: description.spanAttributes };
    const poolAttributes: Attributes = { 'db.client.connection.pool.name': 'cpu-off' };

    try {
      await Promise.all(Object.values(pools).map((p) => p.ready()));
      const sqlOf = async (pool: Pool<{ sql: Sql }>): Promise<Sql> => pool.use((c) => c.sql);
      const sdkSql = await sqlOf(pools.sdk);
      const noSdkSql = await sqlOf(pools.noSdk);
      const nothing = (): undefined => undefined;

      const subjects: Subject[] = [
        { path: 'query', name: 'raw postgres.js', op: () => runUnsent(raw`select 1`), cpuUs: [] },
        // the same subject twice: how far apart two identical subjects land in this run (the noise)
        {
          path: 'query',
          name: 'raw postgres.js (A/A control)',
          op: () => runUnsent(raw`select 1`),
          cpuUs: [],
        },
        { path: 'query', name: 'cistern, no SDK', op: () => runUnsent(noSdkSql`select 1`), cpuUs: [] },
        { path: 'query', name: 'cistern, SDK', op: () => runUnsent(sdkSql`select 1`), cpuUs: [] },
        {
          path: 'query',
          name: 'hand-made span + histogram',
          op: () => {
            const query = raw`select 1`;
            const span = tracer.startSpan(description.spanName, spanOptions, context.active());
            const resolve = query.resolve;
            query.resolve = (rows: unknown) => {
              span.end();
              const d = (span as unknown as { duration: [number, number] }).duration;
              operationDuration.record(d[0] + d[1] / 1e9, description.metricAttributes);
              resolve.call(query, rows); // a method in postgres.js 4, a closure in 3
            };
            return runUnsent(query);
          },
          cpuUs: [],
        },
        { path: 'pool', name: 'telemetry off', op: () => pools.off.use(nothing), cpuUs: [] },
        {
          path: 'pool',
          name: 'telemetry off (A/A control)',
          op: () => pools.offAgain.use(nothing),
          cpuUs: [],
        },
        { path: 'pool', name: 'cistern, no SDK', op: () => pools.noSdk.use(nothing), cpuUs: [] },
        { path: 'pool', name: 'cistern, SDK', op: () => pools.sdk.use(nothing), cpuUs: [] },
        {
          path: 'pool',
          name: 'off + hand-made wait/use histograms',
          op: () => {
            const asked = performance.now();
            return pools.off.use(() => {
              const acquired = performance.now();
              waitTime.record((acquired - asked) / 1000, poolAttributes);
              useTime.record((performance.now() - acquired) / 1000, poolAttributes);
            });
          },
          cpuUs: [],
        },
      ];

      const gc = (globalThis as { gc?: () => void }).gc;
      const measure = async (s: Subject, n: number): Promise<number> => {
        gc?.(); // collect the previous subject's garbage outside this measurement (npm run bench passes --expose-gc)
        const cpu0 = process.cpuUsage();
        for (let i = 0; i < n; i++) await s.op();
        await tracerProvider.forceFlush(); // export this subject's spans inside its own measurement
        const cpu = process.cpuUsage(cpu0);
        return (cpu.user + cpu.system) / n;
      };
      for (const s of subjects) {
        ctx.progress(`warming up ${s.path}: ${s.name}`);
        await measure(s, opsPerRun / 4);
      }
      // a fresh random order per repetition: with a fixed rotation every subject always follows the
      // same one and inherits its leftovers (a heavy SDK subject inflated the baseline after it)
      let seed = 0x2545f491;
      const random = () => {
        seed ^= seed << 13;
        seed ^= seed >>> 17;
        seed ^= seed << 5;
        return (seed >>> 0) / 2 ** 32;
      };
      for (let rep = 0; rep < repetitions; rep++) {
        const order = [...subjects];
        for (let i = order.length - 1; i > 0; i--) {
          const j = Math.floor(random() * (i + 1));
          [order[i], order[j]] = [order[j], order[i]];
        }
        for (const s of order) {
          ctx.progress(`repetition ${rep + 1}/${repetitions}: ${s.path}: ${s.name}`);
          s.cpuUs.push(await measure(s, opsPerRun));
        }
      }

      const runs = (name: string, path: Subject['path']) =>
        subjects.find((s) => s.path === path && s.name === name)!.cpuUs;
      // differences are paired per repetition (both measured in the same round, seconds apart), then the median
      const paired = (a: number[], b: number[]) => median(a.map((x, i) => x - b[i]));
      const bases = { query: runs('raw postgres.js', 'query'), pool: runs('telemetry off', 'pool') };
      const handMade = {
        query: runs('hand-made span + histogram', 'query'),
        pool: runs('off + hand-made wait/use histograms', 'pool'),
      };
      return subjects.map((s) => {
        const value = median(s.cpuUs);
        const extra: Record<string, number> = { overheadUs: round(paired(s.cpuUs, bases[s.path])) };
        if (s.name === 'cistern, SDK') extra.cisternOwnUs = round(paired(s.cpuUs, handMade[s.path]));
        if (s.name.startsWith('hand-made') || s.name.startsWith('off + hand-made'))
          extra.sdkUs = round(paired(s.cpuUs, bases[s.path]));
        return {
          scenario: 'telemetry-cpu',
          subject: `${s.path}: ${s.name}`,
          params: { ops: opsPerRun },
          value: round(value),
          unit: 'µs CPU/op',
          extra,
        };
      });
    } finally {
      await Promise.all(Object.values(pools).map((p) => p.close()));
      await (raw as unknown as { end(o: { timeout: number }): Promise<void> }).end({ timeout: 0 });
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
      context.disable();
      manager.disable();
    }
  },
};

export default scenario;
