import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { expect, test } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

// Before the fix the back-off timer was unref'd even with a caller waiting: the process
// exited with that caller's promise unsettled (generic-pool's own suite caught it).
test('a caller waiting through the connect back-off keeps the process alive until it is served', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'test/fixtures/waiter-in-backoff.ts'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(run.stdout).toMatch(/first: could not connect .*: first connect fails/);
  expect(run.stdout).toContain('served after 2 connect attempts');
  expect(run.status).toBe(0);
}, 40_000);
