/**
 * CPU per query of each face against `pool.use` with the same query on the same pool:
 * the faces' target is at most 1 µs of CPU more per query.
 *
 * Each row runs `select 1` from 8 callers on a pool of 4 connections (telemetry off)
 * and divides this process's CPU time (user + system, `process.cpuUsage`) by the
 * number of queries; server CPU is not counted. Subjects per database, interleaved
 * (every repetition runs each once, in a rotated order); the figure is the median.
 * The face rows measure the face alone (what a tool calls on it), and `overheadUs`
 * is the difference to the `pool.use` row of that database; the whole-tool rows
 * (kysely, drizzle, knex, Prisma's adapter) add the tool's own work and are shown
 * for scale. Full run: 5 repetitions of 20k queries; --quick: 3 of 2k.
 * A round trip costs ~80 µs of client CPU here and varies by more than 1 µs between
 * repetitions, so the same subjects also run on in-process connections (database
 * 'in-process': a driver named like the real one whose connection answers every query
 * with an already-resolved promise, no socket): there the difference to `pool.use` is
 * the face's own CPU per query, which is what the 1 µs target is about.
 * On a machine other work loads, the figures are indicative only.
 */
import { PrismaMariaDb } from '@prisma/adapter-mariadb';
import { drizzle } from 'drizzle-orm/postgres-js';
import knex from 'knex';
import { CompiledQuery, Kysely } from 'kysely';
import { mariadb, mariadbPool } from '../src/drivers/mariadb/index.js';
import { poolSql, postgres } from '../src/drivers/postgres/index.js';
import { createPool, fromFactory, type Pool } from '../src/index.js';
import { knexPool } from '../src/knex/index.js';
import { CisternDialect, CisternDriver } from '../src/kysely/index.js';
import { MARIADB_URL, PG_URL, reachable } from '../test/support/servers.js';
import { median, round } from './lib/stats.js';
import type { BenchContext, BenchResult, BenchScenario } from './lib/types.js';

const CALLERS = 8;
const SELECT1 = CompiledQuery.raw('select 1');

interface Subject {
  name: string;
  /** The face alone (compared to the baseline), or the whole tool (for scale). */
  role: 'baseline' | 'face' | 'tool';
  query(): Promise<unknown>;
}

async function cpuPerQuery(subject: Subject, total: number): Promise<number> {
  let left = total;
  const caller = async () => {
    while (left-- > 0) await subject.query();
  };
  const before = process.cpuUsage();
  await Promise.all(Array.from({ length: CALLERS }, caller));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / total;
}

function viaDriver(driver: CisternDriver): () => Promise<unknown> {
  return async () => {
    const conn = await driver.acquireConnection();
    try {
      return await conn.executeQuery(SELECT1);
    } finally {
      await driver.releaseConnection(conn);
    }
  };
}

function postgresSubjects(pool: Pool<any>): Subject[] {
  const sql = poolSql(pool);
  const db = drizzle({ client: poolSql(pool) });
  const kdb = new Kysely<any>({ dialect: new CisternDialect({ pool, closePoolOnDestroy: false }) });
  return [
    { name: 'pool.use (postgres.js)', role: 'baseline', query: () => pool.use((c) => c.sql`select 1`) },
    { name: 'poolSql', role: 'face', query: () => sql`select 1` },
    {
      name: 'CisternDialect driver (postgres.js)',
      role: 'face',
      query: viaDriver(new CisternDriver({ pool })),
    },
    { name: 'drizzle on poolSql', role: 'tool', query: () => db.execute('select 1') },
    { name: 'kysely on CisternDialect (postgres.js)', role: 'tool', query: () => kdb.executeQuery(SELECT1) },
  ];
}

async function mariadbSubjects(pool: Pool<any>): Promise<Subject[]> {
  const face = mariadbPool(pool);
  const kpool = knexPool(pool);
  const kdb = new Kysely<any>({ dialect: new CisternDialect({ pool, closePoolOnDestroy: false }) });
  const kx = knex({ client: 'mariadb', connectionPool: knexPool(pool) });
  const prisma = await new PrismaMariaDb(mariadbPool(pool) as never).connect();
  return [
    { name: 'pool.use (mariadb)', role: 'baseline', query: () => pool.use((c) => c.query('select 1')) },
    { name: 'mariadbPool.query', role: 'face', query: () => face.query('select 1') },
    {
      name: 'mariadbPool.getConnection',
      role: 'face',
      query: async () => {
        const c = await face.getConnection();
        try {
          return await c.query('select 1');
        } finally {
          await c.release();
        }
      },
    },
    { name: 'CisternDialect driver (mariadb)', role: 'face', query: viaDriver(new CisternDriver({ pool })) },
    {
      name: 'knexPool + callback view',
      role: 'face',
      query: async () => {
        const raw = await kpool.acquire().promise;
        try {
          return await new Promise((resolve, reject) =>
            raw.query({ sql: 'select 1' }, [], (e: unknown, rows: unknown) =>
              e ? reject(e) : resolve(rows),
            ),
          );
        } finally {
          kpool.release(raw);
        }
      },
    },
    { name: 'kysely on CisternDialect (mariadb)', role: 'tool', query: () => kdb.executeQuery(SELECT1) },
    { name: 'knex mariadb on knexPool', role: 'tool', query: () => kx.raw('select 1') },
    {
      name: 'Prisma adapter on mariadbPool',
      role: 'tool',
      query: () => prisma.queryRaw({ sql: 'select 1', args: [], argTypes: [] }),
    },
  ];
}

const ROWS = Object.assign([{ '?column?': 1 }], { command: 'SELECT', count: 1 });

/** A pool of in-process connections shaped like `kind`'s (postgres.js or mariadb), for the face's own CPU. */
function inProcessPool(kind: 'postgres' | 'mariadb'): Pool<any> {
  const create = async () => {
    const answer = () => Promise.resolve(ROWS);
    const sql = Object.assign((..._args: unknown[]) => answer(), {
      unsafe: answer,
      options: { parsers: {}, serializers: {} },
    });
    return kind === 'postgres'
      ? { sql, raw: sql, query: answer, pid: 1 }
      : { query: answer, raw: {}, threadId: 1 };
  };
  const driver = { ...fromFactory({ create, destroy: async () => {} }), name: kind };
  return createPool(driver, { size: 4, maxOverflow: 0, telemetry: false, prePing: false });
}

function inProcessSubjects(pg: Pool<any>, maria: Pool<any>): Subject[] {
  const sql = poolSql(pg);
  const face = mariadbPool(maria);
  const kpool = knexPool(maria);
  return [
    { name: 'pool.use (in-process)', role: 'baseline', query: () => pg.use((c) => c.sql`select 1`) },
    { name: 'poolSql (in-process)', role: 'face', query: () => sql`select 1` },
    {
      name: 'CisternDialect driver (in-process postgres.js)',
      role: 'face',
      query: viaDriver(new CisternDriver({ pool: pg })),
    },
    { name: 'mariadbPool.query (in-process)', role: 'face', query: () => face.query('select 1') },
    {
      name: 'CisternDialect driver (in-process mariadb)',
      role: 'face',
      query: viaDriver(new CisternDriver({ pool: maria })),
    },
    {
      name: 'knexPool + callback view (in-process)',
      role: 'face',
      query: async () => {
        const raw = await kpool.acquire().promise;
        try {
          return await new Promise((resolve, reject) =>
            raw.query({ sql: 'select 1' }, [], (e: unknown, rows: unknown) =>
              e ? reject(e) : resolve(rows),
            ),
          );
        } finally {
          kpool.release(raw);
        }
      },
    },
  ];
}

async function measure(
  ctx: BenchContext,
  database: string,
  subjects: Subject[],
  repetitions: number,
  total: number,
): Promise<BenchResult[]> {
  const samples = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
  for (const s of subjects) await cpuPerQuery(s, Math.min(total, 500)); // warm up
  for (let rep = 0; rep < repetitions; rep++) {
    for (let i = 0; i < subjects.length; i++) {
      const s = subjects[(i + rep) % subjects.length]!;
      ctx.progress(`faces ${database}: ${s.name} (${rep + 1}/${repetitions})`);
      samples.get(s.name)!.push(await cpuPerQuery(s, total));
    }
  }
  const base = median(samples.get(subjects.find((s) => s.role === 'baseline')!.name)!);
  return subjects.map((s) => {
    const us = median(samples.get(s.name)!);
    return {
      scenario: 'faces-cpu',
      subject: s.name,
      params: { database, role: s.role, callers: CALLERS },
      value: round(us, 2),
      unit: 'µs CPU/query',
      extra: { overheadUs: round(us - base, 2) },
    };
  });
}

const scenario: BenchScenario = {
  name: 'faces-cpu',
  async skip() {
    if (!(await reachable(PG_URL)) && !(await reachable(MARIADB_URL)))
      return 'neither PostgreSQL nor MariaDB reachable';
    return undefined;
  },
  async run(ctx) {
    const repetitions = ctx.quick ? 3 : 5;
    const total = ctx.quick ? 2_000 : 20_000;
    const results: BenchResult[] = [];
    const pg = inProcessPool('postgres');
    const maria = inProcessPool('mariadb');
    try {
      results.push(
        ...(await measure(ctx, 'in-process', inProcessSubjects(pg, maria), repetitions, total * 5)),
      );
    } finally {
      await Promise.all([pg.close(), maria.close()]);
    }
    const options = { size: 4, maxOverflow: 0, telemetry: false as const };
    if (await reachable(PG_URL)) {
      const pool = createPool(postgres(PG_URL), options);
      try {
        results.push(...(await measure(ctx, 'postgresql', postgresSubjects(pool), repetitions, total)));
      } finally {
        await pool.close();
      }
    }
    if (await reachable(MARIADB_URL)) {
      const pool = createPool(mariadb(MARIADB_URL), options);
      try {
        results.push(...(await measure(ctx, 'mariadb', await mariadbSubjects(pool), repetitions, total)));
      } finally {
        await pool.close();
      }
    }
    return results;
  },
};

export default scenario;
