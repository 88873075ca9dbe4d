/**
 * Cluster options: the cluster's own keys, validated here; every other key is a pool
 * option applied to each member pool (validated by the pool itself).
 */
import type { Driver } from '../pool/driver.js';
import { PoolConfigError } from '../pool/errors.js';
import type { PoolOptions } from '../pool/types.js';
import type { MemberRole } from './pg-role.js';

export interface ClusterOptions<C> extends PoolOptions {
  /** The member that takes writes (`use`, `transaction`); with `roles`, the first host tried. */
  primary: Driver<C>;
  /** Members that serve `read`. Default none. */
  replicas?: Driver<C>[];
  /** Cluster name; member pools are named `<name>/primary`, `<name>/replica-<i>`. Default the primary's `host:port/database`. */
  name?: string;
  /** When no replica is healthy, `read` goes to the primary (`'primary'`) or fails with a `ConnectError` (`'error'`). Default `'primary'`. */
  readFallback?: 'primary' | 'error';
  /** Ping healthy replicas (and, with `roles`, probe every member's role) this often; 0 = off. Default 5000. */
  healthCheckIntervalMs?: number;
  /** First wait before a down member is tried again; doubles (jittered) up to `retryMaxMs`. Default 500. */
  retryInitialMs?: number;
  /** Longest wait between tries of a down member. Default 30000. */
  retryMaxMs?: number;
  /** Longest wait for one health ping or role probe. Default 2000. */
  probeTimeoutMs?: number;
  /**
   * Follow promotions: discover which member takes writes by asking each one
   * (`pgRole` for PostgreSQL, `mariadbRole`, or your own). Every member (primary and
   * replicas alike) may turn out to be the primary. Off by default: roles are fixed.
   */
  roles?: (conn: C) => Promise<MemberRole>;
}

export interface ResolvedClusterOptions<C> {
  primary: Driver<C>;
  replicas: Driver<C>[];
  name: string;
  readFallback: 'primary' | 'error';
  healthCheckIntervalMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
  probeTimeoutMs: number;
  roles: ((conn: C) => Promise<MemberRole>) | undefined;
  pool: PoolOptions;
}

export const CLUSTER_DEFAULTS = {
  readFallback: 'primary',
  healthCheckIntervalMs: 5000,
  retryInitialMs: 500,
  retryMaxMs: 30_000,
  probeTimeoutMs: 2000,
} as const;

const CLUSTER_KEYS = new Set([
  'primary',
  'replicas',
  'name',
  'readFallback',
  'healthCheckIntervalMs',
  'retryInitialMs',
  'retryMaxMs',
  'probeTimeoutMs',
  'roles',
]);

function fail(option: string, value: unknown, allowed: string): never {
  const shown =
    typeof value === 'string'
      ? JSON.stringify(value)
      : Array.isArray(value)
        ? 'an array'
        : typeof value === 'object' && value !== null
          ? 'an object'
          : String(value);
  throw new PoolConfigError(option, `invalid cluster option ${option}: got ${shown}, expected ${allowed}`);
}

function isDriver(value: unknown): value is Driver<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Driver<unknown>).connect === 'function' &&
    typeof (value as Driver<unknown>).close === 'function'
  );
}

function ms(options: Record<string, unknown>, key: keyof typeof CLUSTER_DEFAULTS, min: number): number {
  const value = options[key];
  if (value === undefined) return CLUSTER_DEFAULTS[key] as number;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    fail(key, value, `an integer >= ${min} (milliseconds)`);
  }
  return value;
}

export function resolveClusterOptions<C>(options: ClusterOptions<C>): ResolvedClusterOptions<C> {
  if (typeof options !== 'object' || options === null) {
    throw new PoolConfigError(
      'options',
      'createCluster(options): options must be an object with `primary` (a driver)',
    );
  }
  const o = options as unknown as Record<string, unknown>;
  if (!isDriver(o.primary)) fail('primary', o.primary, 'a driver (e.g. postgres(url) from cistern/postgres)');
  const replicas = o.replicas ?? [];
  if (!Array.isArray(replicas)) fail('replicas', replicas, 'an array of drivers');
  replicas.forEach((r, i) => {
    if (!isDriver(r)) fail(`replicas[${i}]`, r, 'a driver');
  });
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name === ''))
    fail('name', o.name, 'a non-empty string');
  const readFallback = o.readFallback ?? CLUSTER_DEFAULTS.readFallback;
  if (readFallback !== 'primary' && readFallback !== 'error')
    fail('readFallback', readFallback, "'primary' or 'error'");
  if (o.roles !== undefined && typeof o.roles !== 'function') {
    fail('roles', o.roles, 'a function (conn) => Promise<"primary" | "replica">, e.g. pgRole');
  }
  const retryInitialMs = ms(o, 'retryInitialMs', 1);
  const retryMaxMs = ms(o, 'retryMaxMs', 1);
  if (retryMaxMs < retryInitialMs)
    fail('retryMaxMs', retryMaxMs, `an integer >= retryInitialMs (${retryInitialMs})`);
  const pool: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (!CLUSTER_KEYS.has(k)) pool[k] = v;
  const t = (o.primary as Driver<C>).target;
  const name =
    (o.name as string | undefined) ??
    (t.host === undefined
      ? 'cluster'
      : `${t.host}${t.port === undefined ? '' : `:${t.port}`}${t.database ? `/${t.database}` : ''}`);
  return {
    primary: o.primary as Driver<C>,
    replicas: replicas as Driver<C>[],
    name,
    readFallback,
    healthCheckIntervalMs: ms(o, 'healthCheckIntervalMs', 0),
    retryInitialMs,
    retryMaxMs,
    probeTimeoutMs: ms(o, 'probeTimeoutMs', 1),
    roles: o.roles as ResolvedClusterOptions<C>['roles'],
    pool: pool as PoolOptions,
  };
}
