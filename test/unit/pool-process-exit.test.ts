import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { expect, test } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

test('an unclosed pool whose waiters were all served does not keep the process alive', () => {
  const started = Date.now();
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'test/fixtures/unclosed-pool.ts'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
  });
  const elapsed = Date.now() - started;
  expect(run.stdout).toContain('served');
  expect(run.status).toBe(0);
  // the head timer was armed for 60 s; the process must not wait for it
  expect(elapsed).toBeLessThan(25_000);
}, 40_000);
