/**
 * Pool options: the defaults and their validation. Owns the one place an option is
 * checked; a bad value throws `PoolConfigError` naming the option, the value and what
 * is allowed. The README's options table is checked against `DEFAULTS`.
 */
import type { DriverTarget } from './driver.js';
import { PoolConfigError } from './errors.js';
import type { AcquireOptions, CloseOptions, PoolOptions, ResolvedPoolOptions } from './types.js';

export const DEFAULTS: Omit<ResolvedPoolOptions, 'name'> = {
  size: 5,
  maxOverflow: 10,
  minIdle: 0,
  refillMinIdle: true,
  acquireTimeoutMs: 30_000,
  connectTimeoutMs: 10_000,
  prePing: true,
  prePingWindowMs: 500,
  maxLifetimeMs: 30 * 60_000,
  idleTimeoutMs: 10 * 60_000,
  maxUses: Number.POSITIVE_INFINITY,
  maxConnecting: 2,
  connectBackoff: { initialMs: 100, maxMs: 2000 },
  maxWaiting: Number.POSITIVE_INFINITY,
  order: 'lifo',
  leakTimeoutMs: 0,
  resetOnReturn: true,
  telemetry: {},
  allowExitOnIdle: false,
};

const KNOWN = new Set<string>([...Object.keys(DEFAULTS), 'name']);
const TELEMETRY_KEYS = new Set(['tracerProvider', 'meterProvider', 'captureQueryText', 'logQueries']);
const BACKOFF_KEYS = new Set(['initialMs', 'maxMs']);

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function fail(option: string, value: unknown, allowed: string): never {
  throw new PoolConfigError(option, `invalid pool option ${option}: got ${show(value)}, expected ${allowed}`);
}

type IntRule = { min: number; infinity?: boolean };

function integer(options: PoolOptions, key: keyof PoolOptions, rule: IntRule): number {
  const value = (options as Record<string, unknown>)[key];
  const fallback = (DEFAULTS as unknown as Record<string, number>)[key];
  if (value === undefined) return fallback;
  const ok =
    typeof value === 'number' &&
    !Number.isNaN(value) &&
    ((rule.infinity === true && value === Number.POSITIVE_INFINITY) ||
      (Number.isInteger(value) && value >= rule.min));
  if (!ok) {
    const allowed = `an integer >= ${rule.min}${rule.infinity ? ' or Infinity' : ''}`;
    fail(key, value, allowed);
  }
  return value as number;
}

function boolean(options: PoolOptions, key: keyof PoolOptions): boolean {
  const value = (options as Record<string, unknown>)[key];
  if (value === undefined) return (DEFAULTS as unknown as Record<string, boolean>)[key];
  if (typeof value !== 'boolean') fail(key, value, 'true or false');
  return value;
}

/** `connectBackoff`: `false`, or `{ initialMs?, maxMs? }` with integers 1 <= initialMs <= maxMs. */
function connectBackoff(value: unknown): ResolvedPoolOptions['connectBackoff'] {
  const fallback = DEFAULTS.connectBackoff as { initialMs: number; maxMs: number };
  if (value === undefined) return { ...fallback };
  if (value === false) return false;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail('connectBackoff', value, 'false or an object { initialMs?, maxMs? }');
  }
  for (const key of Object.keys(value)) {
    if (!BACKOFF_KEYS.has(key)) {
      throw new PoolConfigError(
        `connectBackoff.${key}`,
        `unknown pool option connectBackoff.${key}: allowed are initialMs, maxMs`,
      );
    }
  }
  const v = value as { initialMs?: unknown; maxMs?: unknown };
  const initialMs = v.initialMs ?? fallback.initialMs;
  if (typeof initialMs !== 'number' || !Number.isInteger(initialMs) || initialMs < 1) {
    fail('connectBackoff.initialMs', initialMs, 'an integer >= 1');
  }
  const maxMs = v.maxMs ?? Math.max(fallback.maxMs, initialMs);
  if (typeof maxMs !== 'number' || !Number.isInteger(maxMs) || maxMs < initialMs) {
    fail('connectBackoff.maxMs', maxMs, `an integer >= connectBackoff.initialMs (${initialMs})`);
  }
  return { initialMs, maxMs };
}

/** A default pool name from the driver's target: `host:port/database`. */
export function defaultName(target: DriverTarget): string {
  const host = target.host ?? target.system;
  const port = target.port === undefined ? '' : `:${target.port}`;
  const db = target.database === undefined ? '' : `/${target.database}`;
  return `${host}${port}${db}`;
}

/** Validate options and apply defaults. Throws `PoolConfigError` naming the option, the value and what is allowed. */
export function resolveOptions(options: PoolOptions | undefined, target: DriverTarget): ResolvedPoolOptions {
  if (options === undefined || options === null) options = {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new PoolConfigError('options', `invalid pool options: got ${show(options)}, expected an object`);
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) {
      throw new PoolConfigError(
        key,
        `unknown pool option ${key}: allowed options are ${[...KNOWN].sort().join(', ')}`,
      );
    }
  }

  let name: string;
  if (options.name === undefined) name = defaultName(target);
  else if (typeof options.name !== 'string' || options.name.length === 0) {
    fail('name', options.name, 'a non-empty string');
  } else name = options.name;

  const size = integer(options, 'size', { min: 1 });
  const maxOverflow = integer(options, 'maxOverflow', { min: 0, infinity: true });
  const minIdle = integer(options, 'minIdle', { min: 0 });
  if (minIdle > size) fail('minIdle', minIdle, `an integer between 0 and size (${size})`);
  const refillMinIdle = boolean(options, 'refillMinIdle');
  const acquireTimeoutMs = integer(options, 'acquireTimeoutMs', { min: 0, infinity: true });
  const connectTimeoutMs = integer(options, 'connectTimeoutMs', { min: 1, infinity: true });
  const prePing = boolean(options, 'prePing');
  const prePingWindowMs = integer(options, 'prePingWindowMs', { min: 0, infinity: true });
  const maxLifetimeMs = integer(options, 'maxLifetimeMs', { min: 0 });
  const idleTimeoutMs = integer(options, 'idleTimeoutMs', { min: 0 });
  const maxUses = integer(options, 'maxUses', { min: 1, infinity: true });
  const maxConnecting = integer(options, 'maxConnecting', { min: 1 });
  const backoff = connectBackoff(options.connectBackoff);
  if (backoff === false && minIdle > 0 && refillMinIdle) {
    // the refill would retry a server that refuses every connect in a tight loop
    throw new PoolConfigError(
      'connectBackoff',
      `invalid pool option connectBackoff: got false with minIdle ${minIdle} refilled; a pool that ` +
        'opens minIdle connections on its own needs a backoff (or set refillMinIdle: false, or minIdle: 0)',
    );
  }
  const maxWaiting = integer(options, 'maxWaiting', { min: 0, infinity: true });
  const leakTimeoutMs = integer(options, 'leakTimeoutMs', { min: 0 });
  const resetOnReturn = boolean(options, 'resetOnReturn');
  const allowExitOnIdle = boolean(options, 'allowExitOnIdle');

  let order: 'lifo' | 'fifo' = DEFAULTS.order;
  if (options.order !== undefined) {
    if (options.order !== 'lifo' && options.order !== 'fifo')
      fail('order', options.order, "'lifo' or 'fifo'");
    order = options.order;
  }

  let telemetry: ResolvedPoolOptions['telemetry'] = {};
  if (options.telemetry !== undefined) {
    const t = options.telemetry as unknown;
    if (t === false) telemetry = false;
    else if (typeof t !== 'object' || t === null || Array.isArray(t)) {
      fail('telemetry', t, 'false or an object { tracerProvider?, meterProvider?, captureQueryText? }');
    } else {
      for (const key of Object.keys(t)) {
        if (!TELEMETRY_KEYS.has(key)) {
          throw new PoolConfigError(
            `telemetry.${key}`,
            `unknown pool option telemetry.${key}: allowed are tracerProvider, meterProvider, captureQueryText, logQueries`,
          );
        }
      }
      const c = (t as Record<string, unknown>).captureQueryText;
      if (c !== undefined && typeof c !== 'boolean') fail('telemetry.captureQueryText', c, 'true or false');
      telemetry = { ...(t as object) };
    }
  }

  return {
    name,
    size,
    maxOverflow,
    minIdle,
    refillMinIdle,
    acquireTimeoutMs,
    connectTimeoutMs,
    prePing,
    prePingWindowMs,
    maxLifetimeMs,
    idleTimeoutMs,
    maxUses,
    maxConnecting,
    connectBackoff: backoff,
    maxWaiting,
    order,
    leakTimeoutMs,
    resetOnReturn,
    telemetry,
    allowExitOnIdle,
  };
}

/**
 * The timeout of an `acquire` that passed options (`defaultMs` when it names none), or
 * the error for a bad option. Checked before the waiter is queued: a throw after that
 * left a ghost waiter that took a connection.
 */
export function acquireTimeoutOf(options: AcquireOptions, defaultMs: number): number | PoolConfigError {
  let timeoutMs = defaultMs;
  if (options.timeoutMs !== undefined && options.timeoutMs !== timeoutMs) {
    const t = options.timeoutMs;
    if (typeof t !== 'number' || Number.isNaN(t) || t < 0) {
      return new PoolConfigError(
        'timeoutMs',
        `invalid acquire option timeoutMs: got ${String(t)}, expected a number >= 0 or Infinity`,
      );
    }
    timeoutMs = t;
  }
  const signal = options.signal;
  if (
    signal !== undefined &&
    typeof (signal as Partial<AbortSignal> | null)?.addEventListener !== 'function'
  ) {
    return new PoolConfigError('signal', 'invalid acquire option signal: expected an AbortSignal');
  }
  return timeoutMs;
}

/** `close()`'s grace period (default 30 s), or the error for a bad option. */
export function closeTimeoutOf(options: CloseOptions | undefined): number | PoolConfigError {
  const timeoutMs = options?.timeoutMs ?? 30_000;
  if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs) || timeoutMs < 0) {
    return new PoolConfigError(
      'timeoutMs',
      `invalid close option timeoutMs: got ${String(timeoutMs)}, expected a number >= 0 or Infinity`,
    );
  }
  return timeoutMs;
}
