/**
 * The package as a user installs it: `npm pack`, the tarball installed into fresh
 * projects (postgres.js 4 with every optional peer and @opentelemetry/api; postgres.js 3
 * without @opentelemetry/api), then from a `.cjs` and an `.mjs` file every subpath is
 * loaded with `require` / `import`, pools open on the real PostgreSQL and MariaDB, run
 * a query and close. A consumer type-checks under `moduleResolution: nodenext` from both
 * module kinds; `@arethetypeswrong/cli` and `publint` check the tarball.
 *
 * The subpaths come from package.json `exports`. A subpath whose built file is not in
 * this tree (a face still being written on another branch) is skipped with a loud line.
 * Runs on whichever Node runs vitest (`.ci/run` runs it on 20, 22, 24 and 26); needs
 * `npm run build` first (a stale dist/ fails the test). Installs use the npm cache
 * (`--prefer-offline`), so they only reach the registry for a package not yet cached.
 */
import { execFile as execFileCb } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MARIADB_URL, PG_URL, serverAvailable } from '../support/servers.js';

const execFile = promisify(execFileCb);
const root = resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { types: string; default: string }>;
  devDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
};

/** The peers a subpath needs at run time (unknown subpaths: none). */
const PEERS: Record<string, string[]> = {
  '.': [],
  './postgres': ['postgres'],
  './pg': ['pg'],
  './mariadb': ['mariadb'],
  './mongodb': ['mongodb'],
  './telemetry': ['@opentelemetry/api'],
  './generic-pool': [],
  './kysely': ['kysely'],
  './knex': ['knex'],
};

const subpaths = Object.entries(pkg.exports).filter(
  (e): e is [string, { types: string; default: string }] => typeof e[1] === 'object',
);
const present: string[] = [];
for (const [subpath, target] of subpaths) {
  const missing = [target.default, target.types].filter((f) => !existsSync(join(root, f)));
  if (missing.length === 0) present.push(subpath);
  else
    console.warn(
      `\n!!!!! packaging: SKIPPING cistern${subpath.slice(1)}: ${missing.join(', ')} not built in this tree (its source is not on this branch)\n`,
    );
}
const skipped = subpaths.map(([s]) => s).filter((s) => !present.includes(s));
const spec = (subpath: string): string => `cistern${subpath.slice(1)}`;

/** The exact version of a dev dependency (the one the repo tests with, so the npm cache has it). */
function devVersion(name: string): string {
  const v = pkg.devDependencies[name];
  if (v === undefined)
    throw new Error(`packaging test: ${name} is not a devDependency, add it to install it`);
  return v.replace(/^npm:[^@]+@/, '');
}

const nodeLine = process.version;
// The type check, attw and publint do not depend on the Node running them: .ci/run sets
// CISTERN_PACKAGING_STATIC=0 on all but one Node line to save time.
const staticChecks = process.env.CISTERN_PACKAGING_STATIC !== '0';
let tmp: string;
let tarball: string;
let full: string; // postgres.js 4 + every peer + @opentelemetry/api
let lean: string; // postgres.js 3 + mariadb, no @opentelemetry/api

async function run(
  cmd: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ stdout: string; stderr: string }> {
  try {
    return await execFile(cmd, args, {
      cwd,
      env: { ...process.env, ...env },
      encoding: 'utf8',
      maxBuffer: 32 * 1024 * 1024,
    });
  } catch (error) {
    const e = error as Error & { stdout?: string; stderr?: string };
    throw new Error(
      `${cmd} ${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}\n${e.stderr ?? e.message}`,
    );
  }
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

async function project(name: string, deps: string[]): Promise<string> {
  const dir = join(tmp, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `user-${name}`, private: true }));
  await run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tarball, ...deps],
    dir,
  );
  return dir;
}

beforeAll(async () => {
  const started = performance.now();
  if (
    !existsSync(join(root, 'dist/index.js')) ||
    newestMtime(join(root, 'src')) > newestMtime(join(root, 'dist'))
  )
    throw new Error('packaging test: dist/ is missing or older than src/: run `npm run build` first');
  tmp = mkdtempSync(join(tmpdir(), 'cistern-pkg-'));
  const packed = await run('npm', ['pack', '--json', '--pack-destination', tmp], root);
  tarball = join(tmp, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename);

  const peers = new Set(present.flatMap((s) => PEERS[s] ?? []));
  peers.delete('postgres');
  const fullDeps = [
    `postgres@${devVersion('postgres')}`,
    ...[...peers].map((p) => `${p}@${devVersion(p)}`),
    `@opentelemetry/sdk-trace-base@${devVersion('@opentelemetry/sdk-trace-base')}`,
    `@types/node@${devVersion('@types/node')}`,
  ];
  const leanDeps = [`postgres@${devVersion('postgres3')}`, `mariadb@${devVersion('mariadb')}`];
  [full, lean] = await Promise.all([project('full', fullDeps), project('lean', leanDeps)]);
  console.log(
    `packaging (${nodeLine}): packed and installed 2 projects in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}, 300_000);

afterAll(() => {
  if (tmp && !process.env.CISTERN_PACKAGING_KEEP) rmSync(tmp, { recursive: true, force: true });
  else if (tmp) console.log(`packaging: kept ${tmp}`);
});

/**
 * One script body for both module kinds: `load` is `require` in the .cjs file and
 * `import()` in the .mjs file. Prints one JSON line with what it saw.
 */
function script(kind: 'cjs' | 'mjs', subs: string[], withOtel: boolean): string {
  const head =
    kind === 'cjs'
      ? `'use strict';\nconst load = (name) => require(name);\nconst other = (name) => import(name);\n`
      : `import { createRequire } from 'node:module';\nconst load = (name) => import(name);\nconst other = (name) => createRequire(import.meta.url)(name);\n`;
  return `${head}
const PG_URL = ${JSON.stringify(PG_URL)};
const MARIADB_URL = ${JSON.stringify(MARIADB_URL)};
let finished = false;
process.on('exit', () => {
  if (!finished) { console.error('exited with work pending: a promise that nothing keeps alive never settled'); process.exitCode = 1; }
});
async function main() {
  const out = { loaded: {}, failed: {} };
  let exporter;
  if (${withOtel}) {
    const api = await load('@opentelemetry/api');
    const sdk = await load('@opentelemetry/sdk-trace-base');
    exporter = new sdk.InMemorySpanExporter();
    api.trace.setGlobalTracerProvider(new sdk.BasicTracerProvider({ spanProcessors: [new sdk.SimpleSpanProcessor(exporter)] }));
  }
  for (const name of ${JSON.stringify(subs)}) {
    try { out.loaded[name] = Object.keys(await load(name)).sort(); }
    catch (e) { out.failed[name] = String(e && e.message).split('\\n')[0]; }
  }
  const cistern = await load('cistern');
  out.onePoolClass = cistern.Pool === (await other('cistern')).Pool;
  const { postgres } = await load('cistern/postgres');
  const pg = cistern.createPool(postgres(PG_URL, { applicationName: 'cistern-packaging-${kind}' }), { size: 1, name: 'pkg-pg' });
  out.postgres = (await pg.use((c) => c.sql\`select \${41}::int + 1 as answer\`))[0].answer;
  await pg.close();
  const { mariadb } = await load('cistern/mariadb');
  const my = cistern.createPool(mariadb(MARIADB_URL), { size: 1, name: 'pkg-mariadb' });
  out.mariadb = Number((await my.use((c) => c.query('SELECT ? + 1 AS answer', [41])))[0].answer);
  await my.close();
  const gp = await load('cistern/generic-pool');
  const gpool = gp.createPool({ create: async () => ({ id: 7 }), destroy: async () => {} }, { max: 1 });
  out.genericPool = await gpool.use((r) => r.id);
  await gpool.drain();
  await gpool.clear();
  if (exporter) out.spans = exporter.getFinishedSpans().map((s) => s.attributes['db.system.name'] ?? s.attributes['db.system']).filter(Boolean).sort();
  finished = true;
  console.log(JSON.stringify(out));
}
main().catch((e) => { finished = true; console.error(e); process.exit(1); });
`;
}

async function runScript(dir: string, file: string): Promise<Record<string, any>> {
  const { stdout, stderr } = await run(process.execPath, [file], dir);
  const last = stdout.trim().split('\n').pop() ?? '';
  if (!last.startsWith('{'))
    throw new Error(`${file} printed no result (did it exit early?):\n${stdout}\n${stderr}`);
  return JSON.parse(last);
}

const pgUp = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');
const myUp = await serverAvailable('MariaDB', MARIADB_URL, 'MARIADB_URL');

describe.skipIf(!pgUp || !myUp)(`packaging: the packed tarball as a user installs it (${nodeLine})`, () => {
  test('names the subpaths it checks', () => {
    expect(present).toContain('.');
    expect(present).toContain('./generic-pool');
    console.log(
      `packaging: checking ${present.map(spec).join(', ')}${skipped.length ? `; SKIPPED (not built here): ${skipped.map(spec).join(', ')}` : ''}`,
    );
  });

  for (const kind of ['cjs', 'mjs'] as const) {
    test(`${kind}: every subpath loads with postgres.js 4 and every peer; pools query PostgreSQL and MariaDB; spans arrive`, async () => {
      writeFileSync(join(full, `check.${kind}`), script(kind, present.map(spec), true));
      const out = await runScript(full, `check.${kind}`);
      expect(out.failed).toEqual({});
      expect(Object.keys(out.loaded).sort()).toEqual(present.map(spec).sort());
      expect(out.loaded.cistern).toContain('createPool');
      expect(out.loaded['cistern/generic-pool']).toContain('createPool');
      expect(out.loaded['cistern/generic-pool']).toContain('TimeoutError');
      if (present.includes('./postgres')) expect(out.loaded['cistern/postgres']).toContain('postgres');
      if (present.includes('./telemetry'))
        expect(out.loaded['cistern/telemetry']).toContain('instrumentPool');
      expect(out.onePoolClass).toBe(true);
      expect(out).toMatchObject({ postgres: 42, mariadb: 42, genericPool: 7 });
      // telemetry was loaded synchronously by `cistern` and reached the user's SDK
      expect(out.spans).toContain('postgresql');
      expect(out.spans).toContain('mariadb');
    });

    test(`${kind}: postgres.js 3 without @opentelemetry/api: cistern, its drivers and generic-pool work; only cistern/telemetry needs the api`, async () => {
      const subs = [
        'cistern',
        'cistern/postgres',
        'cistern/mariadb',
        'cistern/generic-pool',
        'cistern/telemetry',
      ];
      writeFileSync(join(lean, `check.${kind}`), script(kind, subs, false));
      const out = await runScript(lean, `check.${kind}`);
      expect(Object.keys(out.loaded).sort()).toEqual(subs.filter((s) => s !== 'cistern/telemetry').sort());
      expect(out.failed['cistern/telemetry']).toMatch(/@opentelemetry\/api/);
      expect(out).toMatchObject({ onePoolClass: true, postgres: 42, mariadb: 42, genericPool: 7 });
      const installed = JSON.parse(readFileSync(join(lean, 'node_modules/postgres/package.json'), 'utf8'));
      expect(installed.version).toMatch(/^3\./);
      expect(existsSync(join(lean, 'node_modules/@opentelemetry/api'))).toBe(false);
    });
  }

  test.skipIf(!staticChecks)(
    'types: a consumer type-checks under moduleResolution nodenext, from ESM (.mts) and CommonJS (.cts)',
    async () => {
      const imports = present
        .map(
          (s, i) => `import * as sub${i} from '${spec(s)}';\nexport const keys${i} = Object.keys(sub${i});`,
        )
        .join('\n');
      const body = `${imports}
import { createPool, PoolTimeoutError, type Pool } from 'cistern';
import { postgres, type PgConnection } from 'cistern/postgres';
import { createPool as createGenericPool, TimeoutError } from 'cistern/generic-pool';
export async function answer(url: string): Promise<number> {
  const pool: Pool<PgConnection> = createPool(postgres(url), { size: 2, acquireTimeoutMs: 1000 });
  const rows = await pool.use((c) => c.sql<{ n: number }[]>\`select 1 as n\`);
  const n: number = rows[0]!.n;
  // @ts-expect-error the pool's options are typed: size is a number (fails if the types were any)
  createPool(postgres(url), { size: 'two' });
  await pool.close();
  const gp = createGenericPool({ create: async () => 1, destroy: async () => {} });
  const one: number = await gp.acquire();
  const isTimeout: boolean = new TimeoutError(1, 'p') instanceof PoolTimeoutError;
  return n + one + Number(isTimeout);
}
`;
      writeFileSync(join(full, 'consumer-esm.mts'), body);
      writeFileSync(join(full, 'consumer-cjs.cts'), body);
      writeFileSync(
        join(full, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            module: 'nodenext',
            moduleResolution: 'nodenext',
            target: 'es2022',
            strict: true,
            noEmit: true,
            skipLibCheck: true,
            types: ['node'],
          },
          files: ['consumer-esm.mts', 'consumer-cjs.cts'],
        }),
      );
      const tsc = join(root, 'node_modules/typescript/bin/tsc');
      const { stdout } = await run(process.execPath, [tsc, '-p', 'tsconfig.json', '--listFilesOnly'], full);
      // the types come from the installed tarball, for every subpath checked
      expect(stdout).toContain('node_modules/cistern/dist/index.d.ts');
      expect(stdout).toContain('node_modules/cistern/dist/generic-pool/index.d.ts');
      await run(process.execPath, [tsc, '-p', 'tsconfig.json'], full);
    },
  );

  test.skipIf(!staticChecks)('@arethetypeswrong/cli on the tarball: no problems', async () => {
    const attw = join(root, 'node_modules/@arethetypeswrong/cli/dist/index.js');
    // cjs-resolves-to-esm: cistern is one ES module graph that CommonJS loads with require(esm)
    // (Node ^20.19.0 || >=22.12.0, its engines range); TypeScript's nodenext allows it too (see the type test).
    const args = [attw, tarball, '--format', 'ascii', '--ignore-rules', 'cjs-resolves-to-esm'];
    if (skipped.length > 0) args.push('--exclude-entrypoints', ...skipped);
    const { stdout } = await run(process.execPath, args, tmp);
    expect(stdout).toContain('No problems found');
  });

  test.skipIf(!staticChecks)('publint on the tarball: no errors, warnings or suggestions', async () => {
    const { publint } = await import('publint');
    const { formatMessage } = await import('publint/utils');
    const buffer = readFileSync(tarball);
    const { messages, pkg: packed } = await publint({
      pack: { tarball: buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) },
      level: 'suggestion',
      strict: true,
    });
    // a subpath not built in this tree is reported missing: that is the skip announced above
    const relevant = messages.filter(
      (m) => !(m.path[0] === 'exports' && skipped.includes(String(m.path[1]))),
    );
    expect(relevant.map((m) => formatMessage(m, packed))).toEqual([]);
  });
});
