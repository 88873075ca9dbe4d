/**
 * logQueries: the query log on top of `cistern:query`, as an exported function and
 * as the pool option `telemetry.logQueries`; and the channels working with
 * `@opentelemetry/*` not installed.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createPool, logQueries, type PoolOptions, type QueryLogRecord } from '../../src/index.js';
import { FakeSqlDriver, FakeSqlError } from '../support/telemetry-fake-driver.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function pool(options: PoolOptions = {}, driver = new FakeSqlDriver()) {
  const p = createPool(driver, { name: 'main', size: 2, ...options });
  cleanups.push(() => p.close());
  return p;
}

function collect(options: Parameters<typeof logQueries>[0] = {}) {
  const lines: { line: string; record: QueryLogRecord }[] = [];
  const stop = logQueries({ ...options, sink: (line, record) => lines.push({ line, record }) });
  cleanups.push(stop);
  return { lines, stop };
}

describe('logQueries', () => {
  it('one line per query: duration, pool, connection id, sanitized text; never a value', async () => {
    const { lines } = collect();
    const p = pool();
    await p.use(async (c) => {
      await c.query('SELECT * FROM users WHERE id = $1', ['secret-value']);
      await c.query("SELECT * FROM users WHERE name = 'bob'", [], { unparameterized: true });
    });
    expect(lines).toHaveLength(2);
    expect(lines[0].line).toMatch(
      /^cistern query \d+\.\d ms pool=main conn=1: SELECT \* FROM users WHERE id = \$1$/,
    );
    expect(lines[0].record).toMatchObject({ pool: 'main', connectionId: 1, system: 'postgresql' });
    expect(lines[1].record.text).toBe('SELECT * FROM users WHERE name = ?');
    const all = JSON.stringify(lines);
    expect(all).not.toContain('secret-value');
    expect(all).not.toContain('bob');
  });

  it('a failure is logged with its code, never its message', async () => {
    const { lines } = collect();
    const p = pool();
    const failure = new FakeSqlError('Key (email)=(someone@example.com) already exists', '23505');
    await expect(p.use((c) => c.query('INSERT INTO u VALUES ($1)', [1], { fail: failure }))).rejects.toBe(
      failure,
    );
    expect(lines[0].record.error).toBe('23505');
    expect(lines[0].line).toContain('failed 23505');
    expect(JSON.stringify(lines)).not.toContain('someone@example.com');
  });

  it('thresholdMs: only queries that took at least that long', async () => {
    const { lines } = collect({ thresholdMs: 40 });
    const driver = new FakeSqlDriver();
    const p = pool({}, driver);
    await p.use((c) => c.query('SELECT fast'));
    const slow = driver.roundTrip.bind(driver);
    driver.roundTrip = async () => {
      await slow();
      await new Promise((r) => setTimeout(r, 60));
    };
    await p.use((c) => c.query('SELECT slow'));
    expect(lines.map((l) => l.record.text)).toEqual(['SELECT slow']);
    expect(lines[0].record.durationMs).toBeGreaterThanOrEqual(40);
  });

  it('pool: only that pool; stop() ends logging', async () => {
    const { lines, stop } = collect({ pool: 'b' });
    const a = pool({ name: 'a' });
    const b = pool({ name: 'b' });
    await a.use((c) => c.query('SELECT a'));
    await b.use((c) => c.query('SELECT b'));
    stop();
    await b.use((c) => c.query('SELECT b again'));
    expect(lines.map((l) => l.record.text)).toEqual(['SELECT b']);
  });

  it('console gets the line alone; a pino-like logger gets (record, line) at the chosen level', async () => {
    const info = vi.spyOn(console, 'info').mockImplementation(() => {});
    cleanups.push(() => info.mockRestore());
    cleanups.push(logQueries({ pool: 'main' }));
    const logger = { info: vi.fn(), warn: vi.fn() };
    cleanups.push(logQueries({ sink: logger, level: 'warn', pool: 'main' }));
    const p = pool();
    await p.use((c) => c.query('SELECT 1'));
    expect(info).toHaveBeenCalledTimes(1);
    expect(info.mock.calls[0]).toEqual([
      expect.stringMatching(/^cistern query .* pool=main conn=1: SELECT 1$/),
    ]);
    expect(logger.info).not.toHaveBeenCalled();
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn.mock.calls[0][0]).toMatchObject({ pool: 'main', text: 'SELECT 1' });
    expect(logger.warn.mock.calls[0][1]).toMatch(/^cistern query/);
  });

  it('a sink that throws never breaks the query', async () => {
    cleanups.push(
      logQueries({
        sink: () => {
          throw new Error('sink down');
        },
      }),
    );
    const p = pool();
    await expect(p.use((c) => c.query('SELECT 1'))).resolves.toEqual({ rows: [] });
  });

  it('as the pool option telemetry.logQueries: that pool only, stopped when the pool closes', async () => {
    const lines: string[] = [];
    const p = pool({ name: 'logged', telemetry: { logQueries: { sink: (line) => lines.push(line) } } });
    const other = pool({ name: 'other' });
    await p.use((c) => c.query('SELECT 1'));
    await other.use((c) => c.query('SELECT 2'));
    expect(lines).toEqual([expect.stringMatching(/pool=logged conn=1: SELECT 1$/)]);
    await p.close();
    const again = pool({ name: 'logged' });
    await again.use((c) => c.query('SELECT 3'));
    expect(lines).toHaveLength(1);
  });

  it('bad options throw PoolConfigError naming the option and what is allowed', () => {
    expect(() => logQueries({ thresholdMs: -1 })).toThrow(
      /logQueries\.thresholdMs: got -1, expected a finite number >= 0/,
    );
    expect(() => logQueries({ level: 'loud' as never })).toThrow(/logQueries\.level/);
    expect(() => logQueries({ sink: {} as never })).toThrow(
      /logQueries\.sink: .* expected console, a function, or a logger with the method info\(\)/,
    );
    expect(() => logQueries({ treshold: 5 } as never)).toThrow(/logQueries\.treshold/);
    expect(() =>
      createPool(new FakeSqlDriver(), { telemetry: { logQueries: { thresholdMs: 'slow' as never } } }),
    ).toThrow(expect.objectContaining({ code: 'POOL_CONFIG' }));
  });
});

describe('without @opentelemetry/api', () => {
  it('the pool publishes on the channels and logs queries', async () => {
    const root = resolve(import.meta.dirname, '../..');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '--import',
        'tsx',
        '--import',
        './test/fixtures/no-opentelemetry.mjs',
        'test/fixtures/channels-without-otel.ts',
      ],
      { cwd: root, timeout: 60_000 },
    );
    const out = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(out.otelLoaded).toBe(false);
    expect(out.seen).toEqual(['checkout no-otel', 'query SELECT $1']);
    expect(out.lines).toEqual([
      expect.stringMatching(/^cistern query \d+\.\d ms pool=no-otel conn=1: SELECT \$1$/),
    ]);
  });
});
