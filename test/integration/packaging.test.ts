/**
 * The package as a user gets it: built to dist/, imported by name from a project
 * that has none of the optional peers installed. A missing optional peer must
 * never break `import 'cistern'`; each subpath export must resolve when its peer
 * is present.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
let project: string;

function node(cwd: string, code: string): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd, encoding: 'utf8' });
}

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'cistern-pkg-'));
  const pkg = join(project, 'node_modules', 'cistern');
  mkdirSync(pkg, { recursive: true });
  execFileSync(
    process.execPath,
    [
      join(root, 'node_modules/typescript/bin/tsc'),
      '-p',
      'tsconfig.build.json',
      '--outDir',
      join(pkg, 'dist'),
    ],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  cpSync(join(root, 'package.json'), join(pkg, 'package.json'));
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'user-app', type: 'module', private: true }),
  );
}, 120_000);

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

describe('packaging', () => {
  test('cistern imports and pools with no optional peer installed (no @opentelemetry/api, no drivers)', () => {
    const out = node(
      project,
      `
      import { createPool, fromFactory, PoolTimeoutError } from 'cistern';
      let n = 0;
      const pool = createPool(fromFactory({ create: async () => ({ id: ++n }), destroy: async () => {} }), { size: 2 });
      const r = await pool.use(async (c) => c.id);
      await pool.close();
      let telemetry = 'loaded';
      try { await import('cistern/telemetry'); } catch (e) { telemetry = e.code; }
      console.log(JSON.stringify({ r, isClass: typeof PoolTimeoutError, telemetry }));
      `,
    );
    const result = JSON.parse(out.trim().split('\n').pop()!);
    expect(result).toEqual({ r: 1, isClass: 'function', telemetry: 'ERR_MODULE_NOT_FOUND' });
  });

  test('every subpath export resolves once its peer is installed', () => {
    for (const peer of ['postgres', 'mariadb', 'mongodb', '@opentelemetry/api']) {
      mkdirSync(join(project, 'node_modules', peer, '..'), { recursive: true });
      symlinkSync(join(root, 'node_modules', peer), join(project, 'node_modules', peer), 'dir');
    }
    const out = node(
      project,
      `
      const names = ['cistern', 'cistern/postgres', 'cistern/mariadb', 'cistern/mongodb', 'cistern/telemetry', 'cistern/generic-pool'];
      const seen = {};
      for (const name of names) seen[name] = Object.keys(await import(name)).sort().join(',');
      console.log(JSON.stringify(seen));
      `,
    );
    const seen = JSON.parse(out.trim().split('\n').pop()!) as Record<string, string>;
    expect(seen['cistern']).toContain('createPool');
    expect(seen['cistern/postgres']).toContain('postgres');
    expect(seen['cistern/mariadb']).toContain('mariadb');
    expect(seen['cistern/mongodb']).toContain('mongodb');
    expect(seen['cistern/telemetry']).toContain('instrumentPool');
    expect(seen['cistern/generic-pool']).toContain('createPool');
  });
});
