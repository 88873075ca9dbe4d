import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runChild } from '../support/run-child.js';
import { MARIADB_URL, PG_URL, serverAvailable } from '../support/servers.js';

const root = resolve(import.meta.dirname, '../..');

function run(kind: string, url: string, allow: boolean, timeout: number) {
  const started = Date.now();
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'test/fixtures/exit-on-idle.ts', kind, url, allow ? '1' : '0'],
    { cwd: root, encoding: 'utf8', timeout, killSignal: 'SIGKILL' },
  );
  return { ...result, elapsed: Date.now() - started };
}

describe.each([
  ['postgres', 'PostgreSQL', PG_URL, 'PG_URL'],
  ['mariadb', 'MariaDB', MARIADB_URL, 'MARIADB_URL'],
] as const)('allowExitOnIdle on %s', (kind, server, url, variable) => {
  test('with allowExitOnIdle a process with an open pool of idle connections exits by itself', async () => {
    if (!(await serverAvailable(server, url, variable))) return;
    const r = run(kind, url, true, 30_000);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.stdout).toContain('served');
    expect(r.stdout).toMatch(/"idle":[1-3]/);
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
  }, 40_000);

  test('without it the idle connections keep the process alive (the check above can fail)', async () => {
    if (!(await serverAvailable(server, url, variable))) return;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/fixtures/exit-on-idle.ts', kind, url, '0'],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      let stdout = '';
      const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
      await new Promise<void>((served, failed) => {
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          if (stdout.includes('served')) served();
        });
        child.once('exit', () => failed(new Error(`exited before serving: ${stdout}`)));
      });
      // served, pool open, connections idle: 3 s later it is still running
      const outcome = await Promise.race([
        exited,
        new Promise((done) => setTimeout(() => done('running'), 3000)),
      ]);
      expect(outcome).toBe('running');
    } finally {
      child.kill('SIGKILL');
    }
  }, 40_000);

  test('with allowExitOnIdle a checked-out connection keeps the process alive', async () => {
    if (!(await serverAvailable(server, url, variable))) return;
    // the same child as the first test, which exits by itself; here it holds one connection
    const r = await runChild(
      'test/fixtures/exit-on-idle.ts',
      [kind, url, '1', 'hold'],
      'holding',
      3000,
      30_000,
    );
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.stdout).toContain('holding');
    expect(r.stdout).toMatch(/"used":1/);
    expect(r.state).toBe('running');
  }, 40_000);
});
