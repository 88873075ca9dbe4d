/**
 * postgres.js's own test suite (tests/index.js of v3.4.9, commit e7dfa14, in upstream/,
 * unmodified) run against poolSql: its shared `sql` instance becomes
 * `poolSql(createPool(postgres(...), { size: 1 }))`. Tests that build their own
 * postgres.js instances still run on postgres.js itself.
 *
 * The suite is rewritten at run time into a scratch folder (removed afterwards):
 * - its bootstrap (which changes the server's ssl / password_encryption settings and
 *   creates users and a database) is not run: this is a shared server;
 * - everything runs in a private schema (search_path), on the `test` database;
 * - its harness keeps going after a failure (upstream stops at the first), drops the
 *   tables `test` / `tester` before each test (so one failure does not cascade), and
 *   reports every result.
 * It runs only with postgres.js 3 loaded (CISTERN_TEST_POSTGRES=3 / the postgres3 alias):
 * the suite is 3.4.9's. Every failure must be one listed in EXPECTED below, each a
 * deliberate difference of the face (docs/integrations.md) or a test needing what this
 * machine does not give (other users, TLS, a second host, a Unix socket, replication).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import postgresjs from 'postgres';
import { afterAll, expect, it } from 'vitest';
import { PG_URL, serverAvailable } from '../../support/servers.js';

const up = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');
const v3 = (() => {
  try {
    (postgresjs({ max: 1 }) as unknown as { array(x: unknown[]): unknown }).array([1]); // removed in postgres.js 4 (throws ARRAY_REMOVED)
    return true;
  } catch {
    return false;
  }
})();
if (!v3)
  console.warn(
    '\n!!!!! SKIPPING the postgres.js 3.4.9 suite: postgres.js 4 is loaded (set CISTERN_TEST_POSTGRES=3)\n',
  );

/** Test name -> why it fails against the face on this machine. */
const EXPECTED: Record<string, string> = {
  'Prepared transaction': 'deliberate: sql.prepare (PREPARE TRANSACTION) is not offered inside sql.begin',
  'has server parameters': 'the cistern driver sets application_name (default "cistern")',
  'dynamic schema name': 'the suite runs in a private schema, not public',
  'dynamic schema and table name': 'the suite runs in a private schema, not public',
  'Connect using uri': 'needs the postgres_js_test user',
  'Login without password': 'needs the postgres_js_test user',
  'Login using MD5': 'needs the md5 user',
  'Login using scram-sha-256': 'needs the scram user',
  'Parallel connections using scram-sha-256': 'needs the scram user',
  'Support dynamic password function': 'needs the scram user',
  'Support dynamic async password function': 'needs the scram user',
  'requests works after single connect_timeout': 'needs the scram user',
  'throws correct error when authentication fails': 'trust auth on this server',
  'Connect using SSL': 'the shared server has no TLS',
  'Connect using SSL require': 'the shared server has no TLS',
  'Connect using SSL prefer': 'would change the shared server config',
  'Reconnect using SSL': 'the shared server has no TLS',
  'Unix socket': 'no socket in /tmp on this machine',
  'Multiple hosts': 'needs a second server on 5433',
  subscribe: 'needs the postgres_js_test database and logical replication',
  'subscribe with transform': 'needs the postgres_js_test database and logical replication',
  'subscribe reconnects and calls onsubscribe': 'needs the postgres_js_test database and logical replication',
  'Large object': 'reads the suite file under its upstream name',
};

/** Upstream tests bound by wall-clock time: allowed (not required) to fail on a loaded machine. */
const TIMING: Record<string, string> = {
  'big query body':
    'a 2 s limit for a 50,000-row insert (timed out once in a full run on the loaded 2-core machine)',
  'listen result reports correct connection state after reconnection':
    'its own postgres.js instance (not the face) and a 50 ms sleep after a backend kill',
};

const here = new URL('.', import.meta.url);
const scratch = new URL(`./.run-${process.pid}/`, here);
const schema = `face_pgjs_${process.pid}`;

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

it.skipIf(!up || !v3)(
  'postgres.js 3.4.9 own suite against poolSql',
  async () => {
    mkdirSync(scratch, { recursive: true });
    for (const f of ['select.sql', 'select-param.sql', 'copy.csv']) {
      writeFileSync(new URL(f, scratch), readFileSync(new URL(`./upstream/${f}`, here)));
    }
    const src = (p: string) => JSON.stringify(new URL(`../../../src/${p}`, here).pathname);
    let suite = readFileSync(new URL('./upstream/index.js', here), 'utf8');
    const replace = (from: string, to: string) => {
      expect(suite.includes(from), `upstream suite contains ${from}`).toBe(true);
      suite = suite.replace(from, to);
    };
    replace(
      "import { exec } from './bootstrap.js'",
      `const exec = async () => { throw new Error('not run: it would change the shared server') }
import { createPool } from ${src('index.ts')}
import { poolSql, postgres as cisternPostgres } from ${src('drivers/postgres/index.ts')}
const SCHEMA = ${JSON.stringify(schema)}`,
    );
    replace("import postgres from '../src/index.js'", "import postgres from 'postgres'");
    replace(
      "  db: 'postgres_js_test',\n  user: login.user,\n  pass: login.pass,",
      `  host: ${JSON.stringify(new URL(PG_URL).hostname)},
  port: ${Number(new URL(PG_URL).port || 5432)},
  db: ${JSON.stringify(new URL(PG_URL).pathname.slice(1))},
  user: ${JSON.stringify(decodeURIComponent(new URL(PG_URL).username || 'postgres'))},
  connection: { search_path: SCHEMA },`,
    );
    replace(
      'const sql = postgres(options)',
      `const sql = poolSql(createPool(
  cisternPostgres(${JSON.stringify(PG_URL)}, { postgresOptions: { connection: { search_path: SCHEMA } } }),
  { size: 1, maxOverflow: 0, telemetry: false }
))
const cleaner = postgres({ ...options, onnotice: () => {} })
globalThis.__faceCleanup = () => cleaner.unsafe('drop table if exists test, tester cascade').catch(() => {})`,
    );
    writeFileSync(new URL('index.js', scratch), suite);
    let harness = readFileSync(new URL('./upstream/test.js', here), 'utf8');
    const patch = (from: string, to: string) => {
      expect(harness.includes(from), `upstream harness contains ${from}`).toBe(true);
      harness = harness.replace(from, to);
    };
    patch(
      'let promise = Promise.resolve()',
      'let promise = Promise.resolve()\nlet resolveFinished\nexport const finished = new Promise(r => resolveFinished = r)',
    );
    patch('function exit() {', 'function exit() {\n  resolveFinished(tests)');
    patch('    failed\n      ? (ignored++, ignore)\n      : fn()', '    globalThis.__faceCleanup().then(fn)');
    writeFileSync(new URL('test.js', scratch), harness);

    const admin = postgresjs(PG_URL, { max: 1, onnotice: () => {} });
    await admin.unsafe(`drop schema if exists ${schema} cascade; create schema ${schema}`);
    try {
      const { finished } = await import(/* @vite-ignore */ new URL('test.js', scratch).href);
      await import(/* @vite-ignore */ new URL('index.js', scratch).href);
      const tests = Object.values(
        (await finished) as Record<string, { name: string; succeeded?: boolean; error?: unknown }>,
      );
      const failed = tests.filter((x) => !x.succeeded);
      console.log(
        `postgres.js suite on poolSql: ${tests.length - failed.length} passed, ${failed.length} failed`,
      );
      const unexpected = failed
        .filter((x) => !Object.hasOwn(EXPECTED, x.name) && !Object.hasOwn(TIMING, x.name))
        .map((x) => `${x.name}: ${String((x.error as Error)?.message ?? x.error).split('\n')[0]}`);
      expect(unexpected).toEqual([]);
      expect(tests.length).toBe(258);
    } finally {
      await admin.unsafe(`drop schema if exists ${schema} cascade`);
      await admin.end();
    }
  },
  600_000,
);
