/**
 * Which postgres.js major this run really tests. `CISTERN_TEST_POSTGRES=3` makes
 * vitest.config.ts alias `postgres` to the `postgres3` devDependency; this file
 * fails if the alias did not reach the tests or the driver in src/, so a run that
 * claims 3.x cannot silently test 4.x twice (or the reverse).
 */
import { readFileSync } from 'node:fs';
import postgresjs from 'postgres';
import { describe, expect, it } from 'vitest';
import { postgres } from '../../src/drivers/postgres/index.js';
import { connectCtx, PG_URL } from '../support/postgres.js';
import { serverAvailable } from '../support/servers.js';

const expected = process.env.CISTERN_TEST_POSTGRES ?? '4';
// postgres.js does not export its package.json: read the installed copies directly
const version = (dir: string): string =>
  (
    JSON.parse(readFileSync(new URL(`../../node_modules/${dir}/package.json`, import.meta.url), 'utf8')) as {
      version: string;
    }
  ).version;
const installed = { '3': version('postgres3'), '4': version('postgres') };
// postgres.js 4 added sql.identifier, sql.batch and sql.stats; 3.x has none of them
const isV4 = (sql: object): boolean => 'stats' in sql && 'batch' in sql && 'identifier' in sql;

const up = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');

describe(`postgres.js major under test: ${expected}.x`, () => {
  it('the devDependencies hold one 3.x and one 4.x', () => {
    expect(installed['3']).toMatch(/^3\./);
    expect(installed['4']).toMatch(/^4\./);
  });

  it(`a test file importing 'postgres' gets ${expected}.x`, async () => {
    const v3 = ((await import('postgres3')) as { default: unknown }).default;
    expect(postgresjs === v3).toBe(expected === '3');
    const sql = postgresjs(PG_URL, { max: 1 });
    try {
      expect(isV4(sql)).toBe(expected === '4');
    } finally {
      await sql.end({ timeout: 1 });
    }
  });

  it.skipIf(!up)(`the driver in src/drivers/postgres runs on ${expected}.x`, async () => {
    const driver = postgres(PG_URL, { applicationName: 'cistern-test-postgres-major' });
    const conn = await driver.connect(connectCtx());
    try {
      expect(isV4(conn.sql)).toBe(expected === '4');
      const [row] = await conn.sql<{ one: number }[]>`select 1 as one`;
      expect(row?.one).toBe(1);
    } finally {
      await driver.close(conn);
    }
  });
});
