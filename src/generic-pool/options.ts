import { PoolConfigError } from '../pool/errors.js';
import type { PoolOptions } from '../pool/types.js';
import type { CisternExtras, Options } from './types.js';

/** generic-pool's options after its own parsing rules (parseInt, fallbacks, clamping). */
export interface GenericConfig {
  max: number;
  min: number;
  maxWaitingClients: number;
  testOnBorrow: boolean;
  acquireTimeoutMillis: number;
  destroyTimeoutMillis: number;
  fifo: boolean;
  priorityRange: number;
  autostart: boolean;
  evictionRunIntervalMillis: number;
  softIdleTimeoutMillis: number;
  idleTimeoutMillis: number;
}

const EXTRAS: readonly (keyof CisternExtras)[] = [
  'name',
  'maxOverflow',
  'connectTimeoutMs',
  'prePingWindowMs',
  'maxLifetimeMs',
  'maxUses',
  'maxConnecting',
  'leakTimeoutMs',
  'telemetry',
];

function int(value: unknown): number {
  return Number.parseInt(value as string, 10);
}

function bool(value: unknown, fallback: boolean): boolean {
  return typeof value === 'boolean' ? value : fallback;
}

/** A duration where generic-pool treats a falsy value as "none": Infinity, or a positive integer. */
function limit(option: string, value: unknown): number {
  if (value === undefined || value === null || value === 0 || value === '' || value === false) {
    return Number.POSITIVE_INFINITY;
  }
  const n = int(value);
  if (Number.isNaN(n) || n <= 0) {
    throw new PoolConfigError(
      option,
      `invalid pool option ${option}: got ${String(value)}, expected a positive integer`,
    );
  }
  return n;
}

/** Parse options the way generic-pool 3.9 does (PoolOptions.js): malformed max/min fall back, min <= max. */
export function parseOptions(opts: Options | undefined): GenericConfig {
  const o = (opts ?? {}) as Record<string, unknown>;
  const rawMax = int(o.max);
  const max = Math.max(Number.isNaN(rawMax) ? 1 : rawMax, 1);
  const rawMin = int(o.min);
  const min = Math.max(Math.min(Number.isNaN(rawMin) ? 0 : rawMin, max), 0);
  const rawWaiting = o.maxWaitingClients === undefined ? Number.NaN : int(o.maxWaitingClients);
  return {
    max,
    min,
    maxWaitingClients: Number.isNaN(rawWaiting) ? Number.POSITIVE_INFINITY : Math.max(rawWaiting, 0),
    testOnBorrow: bool(o.testOnBorrow, false),
    acquireTimeoutMillis: limit('acquireTimeoutMillis', o.acquireTimeoutMillis),
    destroyTimeoutMillis: limit('destroyTimeoutMillis', o.destroyTimeoutMillis),
    fifo: bool(o.fifo, true),
    priorityRange: Math.max(+(o.priorityRange as number) | 0, 1),
    autostart: bool(o.autostart, true),
    evictionRunIntervalMillis: Math.max(int(o.evictionRunIntervalMillis) || 0, 0),
    softIdleTimeoutMillis: int(o.softIdleTimeoutMillis) || -1,
    idleTimeoutMillis: int(o.idleTimeoutMillis) || 30_000,
  };
}

/**
 * Map generic-pool's options onto the cistern core's. Eviction: generic-pool evicts only when
 * `evictionRunIntervalMillis > 0`; then the shorter of the soft and hard idle timeouts becomes
 * cistern's `idleTimeoutMs` (which always keeps `min` resources).
 */
export function toCoreOptions(
  config: GenericConfig,
  opts: Options | undefined,
  canValidate: boolean,
): PoolOptions {
  const o = (opts ?? {}) as Record<string, unknown>;
  let idleTimeoutMs = 0;
  if (config.evictionRunIntervalMillis > 0) {
    const soft = config.softIdleTimeoutMillis;
    idleTimeoutMs = soft > 0 ? Math.min(soft, config.idleTimeoutMillis) : config.idleTimeoutMillis;
    idleTimeoutMs = Math.max(idleTimeoutMs, 1);
  }
  const windowGiven = o.prePingWindowMs !== undefined;
  const core: PoolOptions = {
    size: config.max,
    maxOverflow: 0,
    minIdle: config.min,
    acquireTimeoutMs: config.acquireTimeoutMillis,
    connectTimeoutMs: Number.POSITIVE_INFINITY,
    prePing: canValidate && (config.testOnBorrow || windowGiven),
    prePingWindowMs: 0,
    maxLifetimeMs: 0,
    idleTimeoutMs,
    maxConnecting: config.max,
    // generic-pool's own rule is checked by the face (a caller that triggers a create does not count)
    maxWaiting: Number.POSITIVE_INFINITY,
    order: config.fifo ? 'fifo' : 'lifo',
    resetOnReturn: false,
  };
  for (const key of EXTRAS) {
    if (o[key] !== undefined) (core as Record<string, unknown>)[key] = o[key];
  }
  return core;
}
