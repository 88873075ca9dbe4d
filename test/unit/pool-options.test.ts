import { describe, expect, it } from 'vitest';
import { PoolConfigError, PoolError } from '../../src/pool/errors.js';
import { DEFAULTS } from '../../src/pool/options.js';
import { Pool } from '../../src/pool/pool.js';
import type { PoolOptions } from '../../src/pool/types.js';
import { FakeDriver } from '../support/fake-driver.js';
import { makePool, rejection, useFakeClock } from '../support/pool-harness.js';

useFakeClock();

function configError(options: unknown): PoolConfigError {
  try {
    makePool(options as PoolOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(PoolConfigError);
    expect(error).toBeInstanceOf(PoolError);
    expect((error as PoolConfigError).code).toBe('POOL_CONFIG');
    expect((error as PoolConfigError).name).toBe('PoolConfigError');
    return error as PoolConfigError;
  }
  throw new Error(`expected PoolConfigError for ${JSON.stringify(options)}`);
}

type Rule = { key: keyof PoolOptions; min: number; infinity: boolean };

const INTEGERS: Rule[] = [
  { key: 'size', min: 1, infinity: false },
  { key: 'maxOverflow', min: 0, infinity: true },
  { key: 'minIdle', min: 0, infinity: false },
  { key: 'acquireTimeoutMs', min: 0, infinity: true },
  { key: 'connectTimeoutMs', min: 1, infinity: true },
  { key: 'prePingWindowMs', min: 0, infinity: true },
  { key: 'maxLifetimeMs', min: 0, infinity: false },
  { key: 'idleTimeoutMs', min: 0, infinity: false },
  { key: 'maxUses', min: 1, infinity: true },
  { key: 'maxConnecting', min: 1, infinity: false },
  { key: 'maxWaiting', min: 0, infinity: true },
  { key: 'leakTimeoutMs', min: 0, infinity: false },
];

describe('pool options: defaults', () => {
  it('applies every documented default and names the pool host:port/database', () => {
    const { pool } = makePool({ telemetry: undefined });
    expect(pool.options).toEqual({
      name: 'fake-host:1/db',
      size: 5,
      maxOverflow: 10,
      minIdle: 0,
      refillMinIdle: true,
      acquireTimeoutMs: 30_000,
      connectTimeoutMs: 10_000,
      prePing: true,
      prePingWindowMs: 500,
      maxLifetimeMs: 1_800_000,
      idleTimeoutMs: 600_000,
      maxUses: Number.POSITIVE_INFINITY,
      maxConnecting: 2,
      connectBackoff: { initialMs: 100, maxMs: 2000 },
      maxWaiting: Number.POSITIVE_INFINITY,
      order: 'lifo',
      leakTimeoutMs: 0,
      resetOnReturn: true,
      telemetry: {},
      allowExitOnIdle: false,
    });
    expect(pool.name).toBe('fake-host:1/db');
    expect(pool.stats().max).toBe(15);
    expect(Object.isFrozen(pool.options)).toBe(true);
    expect({ ...DEFAULTS, name: pool.name }).toEqual(pool.options);
  });

  it('accepts no options at all, null, and a given name', () => {
    const driver = new FakeDriver();
    expect(new Pool(driver).options.size).toBe(5);
    expect(new Pool(driver, null as unknown as PoolOptions).options.size).toBe(5);
    expect(new Pool(driver, { name: 'main', telemetry: false }).name).toBe('main');
  });

  it('keeps given values', () => {
    const { pool } = makePool({
      size: 3,
      maxOverflow: Number.POSITIVE_INFINITY,
      minIdle: 3,
      order: 'fifo',
      prePing: false,
      resetOnReturn: false,
      maxUses: 7,
    });
    expect(pool.options).toMatchObject({
      size: 3,
      maxOverflow: Number.POSITIVE_INFINITY,
      minIdle: 3,
      order: 'fifo',
      prePing: false,
      resetOnReturn: false,
      maxUses: 7,
      telemetry: false,
    });
    expect(pool.stats().max).toBe(Number.POSITIVE_INFINITY);
  });
});

describe.each(INTEGERS)('pool option $key', ({ key, min, infinity }) => {
  it('rejects a wrong type, naming the option, the value and what is allowed', () => {
    const error = configError({ [key]: '5' });
    expect(error.option).toBe(key);
    expect(error.message).toContain(key);
    expect(error.message).toContain('"5"');
    expect(error.message).toContain(`an integer >= ${min}`);
    expect(configError({ [key]: true }).message).toContain('got true');
    expect(configError({ [key]: null }).message).toContain('got null');
    expect(configError({ [key]: Number.NaN }).message).toContain('got NaN');
  });

  it(`rejects a value below ${min} and a fraction`, () => {
    const below = configError({ [key]: min - 1 });
    expect(below.option).toBe(key);
    expect(below.message).toContain(`got ${min - 1}`);
    expect(configError({ [key]: min + 0.5 }).message).toContain(`got ${min + 0.5}`);
    expect(configError({ [key]: Number.NEGATIVE_INFINITY }).option).toBe(key);
  });

  it(infinity ? 'allows Infinity' : 'rejects Infinity', () => {
    if (infinity) {
      const { pool } = makePool({ [key]: Number.POSITIVE_INFINITY });
      expect(pool.options[key as 'size']).toBe(Number.POSITIVE_INFINITY);
      expect(configError({ [key]: -1 }).message).toContain('or Infinity');
    } else {
      const error = configError({ [key]: Number.POSITIVE_INFINITY });
      expect(error.option).toBe(key);
      expect(error.message).toContain('got Infinity');
      expect(error.message).not.toContain('or Infinity');
    }
  });

  it(`accepts the smallest allowed value ${min}`, () => {
    const { pool } = makePool({ [key]: min });
    expect(pool.options[key as 'size']).toBe(min);
  });
});

describe.each(['prePing', 'resetOnReturn', 'refillMinIdle', 'allowExitOnIdle'] as const)(
  'pool option %s',
  (key) => {
    it('accepts only booleans', () => {
      for (const bad of ['yes', 1, 0, null, {}]) {
        const error = configError({ [key]: bad });
        expect(error.option).toBe(key);
        expect(error.message).toContain('expected true or false');
      }
      expect(makePool({ [key]: false }).pool.options[key]).toBe(false);
    });
  },
);

describe('pool options: name, order, minIdle, telemetry, unknown keys', () => {
  it('name must be a non-empty string', () => {
    expect(configError({ name: '' }).message).toBe(
      'invalid pool option name: got "", expected a non-empty string',
    );
    expect(configError({ name: 5 }).option).toBe('name');
    expect(configError({ name: () => 'x' }).message).toContain('got a function');
  });

  it("order must be 'lifo' or 'fifo'", () => {
    const error = configError({ order: 'random' });
    expect(error.option).toBe('order');
    expect(error.message).toBe(`invalid pool option order: got "random", expected 'lifo' or 'fifo'`);
    expect(configError({ order: ['lifo'] }).message).toContain('got an array');
  });

  it('minIdle may equal size but not exceed it', () => {
    expect(makePool({ size: 3, minIdle: 3 }).pool.options.minIdle).toBe(3);
    const error = configError({ size: 3, minIdle: 4 });
    expect(error.option).toBe('minIdle');
    expect(error.message).toContain('got 4');
    expect(error.message).toContain('between 0 and size (3)');
    // against the default size 5
    expect(configError({ minIdle: 6 }).message).toContain('size (5)');
  });

  it('connectBackoff is false or { initialMs?, maxMs? } with integers 1 <= initialMs <= maxMs', () => {
    expect(makePool({ connectBackoff: false }).pool.options.connectBackoff).toBe(false);
    expect(makePool({ connectBackoff: {} }).pool.options.connectBackoff).toEqual({
      initialMs: 100,
      maxMs: 2000,
    });
    expect(makePool({ connectBackoff: { initialMs: 5 } }).pool.options.connectBackoff).toEqual({
      initialMs: 5,
      maxMs: 2000,
    });
    // a first wait longer than the default cap raises the cap with it
    expect(makePool({ connectBackoff: { initialMs: 5000 } }).pool.options.connectBackoff).toEqual({
      initialMs: 5000,
      maxMs: 5000,
    });
    expect(makePool({ connectBackoff: { initialMs: 1, maxMs: 1 } }).pool.options.connectBackoff).toEqual({
      initialMs: 1,
      maxMs: 1,
    });

    for (const bad of [true, 100, 'off', null, []]) {
      const error = configError({ connectBackoff: bad });
      expect(error.option).toBe('connectBackoff');
      expect(error.message).toContain('expected false or an object { initialMs?, maxMs? }');
    }
    const initial = configError({ connectBackoff: { initialMs: 0 } });
    expect(initial.option).toBe('connectBackoff.initialMs');
    expect(initial.message).toBe(
      'invalid pool option connectBackoff.initialMs: got 0, expected an integer >= 1',
    );
    expect(configError({ connectBackoff: { initialMs: 1.5 } }).option).toBe('connectBackoff.initialMs');
    expect(configError({ connectBackoff: { initialMs: '100' } }).message).toContain('got "100"');
    const max = configError({ connectBackoff: { initialMs: 200, maxMs: 100 } });
    expect(max.option).toBe('connectBackoff.maxMs');
    expect(max.message).toBe(
      'invalid pool option connectBackoff.maxMs: got 100, expected an integer >= connectBackoff.initialMs (200)',
    );
    expect(configError({ connectBackoff: { maxMs: Number.POSITIVE_INFINITY } }).option).toBe(
      'connectBackoff.maxMs',
    );
    const unknown = configError({ connectBackoff: { retries: 3 } });
    expect(unknown.option).toBe('connectBackoff.retries');
    expect(unknown.message).toContain('allowed are initialMs, maxMs');
  });

  it('connectBackoff: false is refused next to a refilled minIdle (a tight retry loop)', () => {
    const error = configError({ connectBackoff: false, minIdle: 1 });
    expect(error.option).toBe('connectBackoff');
    expect(error.message).toContain('got false with minIdle 1 refilled');
    expect(error.message).toContain('refillMinIdle: false');
    // without the refill, or without minIdle, nothing connects on its own: allowed
    expect(makePool({ connectBackoff: false, minIdle: 1, refillMinIdle: false }).pool.options).toMatchObject({
      connectBackoff: false,
      minIdle: 1,
      refillMinIdle: false,
    });
    expect(makePool({ connectBackoff: false, minIdle: 0 }).pool.options.connectBackoff).toBe(false);
  });

  it('an unknown key is rejected, named, and the allowed keys are listed', () => {
    const error = configError({ max: 10 });
    expect(error.option).toBe('max');
    expect(error.message).toContain('unknown pool option max');
    for (const key of ['size', 'maxOverflow', 'acquireTimeoutMs', 'telemetry', 'name']) {
      expect(error.message).toContain(key);
    }
    expect(configError({ size: 2, idleTimeoutMillis: 5 }).option).toBe('idleTimeoutMillis');
  });

  it('options must be an object', () => {
    for (const bad of ['size=5', 5, [1]]) {
      let error: unknown;
      try {
        new Pool(new FakeDriver(), bad as PoolOptions);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(PoolConfigError);
      expect((error as PoolConfigError).option).toBe('options');
      expect((error as PoolConfigError).message).toContain('expected an object');
    }
  });

  it('telemetry is false or { tracerProvider?, meterProvider?, captureQueryText? }', () => {
    expect(makePool({ telemetry: false }).pool.options.telemetry).toBe(false);
    const provider = { getTracer: () => undefined };
    const given = { tracerProvider: provider, meterProvider: provider, captureQueryText: false };
    const resolved = makePool({ telemetry: given }).pool.options.telemetry;
    expect(resolved).toEqual(given);
    expect(resolved).not.toBe(given);
    expect(makePool({ telemetry: {} }).pool.options.telemetry).toEqual({});

    const unknown = configError({ telemetry: { exporter: 'otlp' } });
    expect(unknown.option).toBe('telemetry.exporter');
    expect(unknown.message).toContain('tracerProvider, meterProvider, captureQueryText');
    const capture = configError({ telemetry: { captureQueryText: 'yes' } });
    expect(capture.option).toBe('telemetry.captureQueryText');
    expect(capture.message).toContain('got "yes", expected true or false');
    for (const bad of [true, 'on', null, []])
      expect(configError({ telemetry: bad }).option).toBe('telemetry');
  });

  it('a bad option opens nothing and arms no timer', () => {
    const driver = new FakeDriver();
    expect(() => new Pool(driver, { minIdle: 2, size: 1 })).toThrow(PoolConfigError);
    expect(driver.connectAttempts).toBe(0);
  });
});

describe('pool options: the driver and per-call options', () => {
  it('a driver that lacks a method is a PoolConfigError naming what is missing', () => {
    const { ping: _ping, ...partial } = new FakeDriver();
    const error = (() => {
      try {
        new Pool({ ...partial, connect: () => Promise.resolve({}), close: async () => {} } as never);
      } catch (e) {
        return e as PoolConfigError;
      }
    })();
    expect(error).toBeInstanceOf(PoolConfigError);
    expect(error?.option).toBe('driver');
    expect(error?.message).toContain('ping');
    expect(() => new Pool(null as never)).toThrow(/driver must be a Driver object/);
  });

  it('acquire({ timeoutMs }) must be a number >= 0', async () => {
    const { pool } = makePool({ size: 1, maxOverflow: 0 });
    const held = await pool.acquire();
    for (const bad of [-1, Number.NaN, '100']) {
      const error = (await rejection(pool.acquire({ timeoutMs: bad as number }))) as PoolConfigError;
      expect(error).toBeInstanceOf(PoolConfigError);
      expect(error.option).toBe('timeoutMs');
    }
    expect(pool.stats().pending).toBe(0);
    pool.release(held);
  });

  it('close({ timeoutMs }) and transaction({ retries }) are validated too', async () => {
    const { pool } = makePool();
    await expect(pool.transaction(async () => 1, { retries: -1 })).rejects.toMatchObject({
      code: 'POOL_CONFIG',
      option: 'retries',
    });
    await expect(pool.transaction(async () => 1, { retries: 1.5 })).rejects.toBeInstanceOf(PoolConfigError);
    const error = (await rejection(pool.close({ timeoutMs: -5 }))) as PoolConfigError;
    expect(error.option).toBe('timeoutMs');
    // the rejected close did not close the pool
    expect(pool.closed).toBe(false);
    const conn = await pool.acquire();
    pool.release(conn);
  });
});
