/**
 * The pg.Pool face's options: pg.Pool's own config (pool keys and the client keys
 * it hands to every `pg.Client`, untouched, as pg-pool does) plus cistern's pool
 * options under their cistern names. Only what contradicts itself is rejected.
 */
import { PoolConfigError } from '../../pool/errors.js';
import type { PoolOptions, TelemetryOptions } from '../../pool/types.js';
import type { PgClient, PgClientConstructor } from './pg-types.js';

/** pg-pool's own options (node-postgres docs, "pg.Pool"). */
export interface PgPoolOptions {
  /** Most clients at once. Default 10 (`poolSize` is read too, as pg-pool does). */
  max?: number;
  /** Idle clients the idle timeout leaves open (cistern `minIdle`, not refilled: none is opened for it, as in pg-pool). Default 0. */
  min?: number;
  /** Idle time after which a client beyond `min` is closed; 0 = never. Default 10000. */
  idleTimeoutMillis?: number;
  /** Longest wait for a client (and for a new connection); 0 = no limit. Default 0. */
  connectionTimeoutMillis?: number;
  /** Close a client after this many checkouts. Default Infinity. */
  maxUses?: number;
  /** Close a client this many seconds after it connected (at its next check-in when busy); 0 = never. Default 0. */
  maxLifetimeSeconds?: number;
  /** Idle clients do not keep the process alive. Default false. */
  allowExitOnIdle?: boolean;
  /** Runs on every new client before it is handed out; a throw or rejection fails that connect. */
  onConnect?: (client: PgClient) => unknown;
  /** pg-pool's callback-style check of every new client. */
  verify?: (client: PgClient, done: (error?: Error | null) => void) => void;
  /** pg-pool's debug log function. */
  log?: (message: string, ...args: unknown[]) => void;
  /** The client class. Default `pg.Client`. */
  Client?: PgClientConstructor;
  /** Accepted for compatibility; cistern's promises are native. */
  Promise?: unknown;
  /** Any pg.Client option (`connectionString`, `host`, `ssl`, `types`, `statement_timeout`, ...). */
  [clientOption: string]: unknown;
}

/** cistern's own pool options, accepted next to pg-pool's (see the cistern README for each). */
export interface CisternPgPoolOptions {
  name?: string;
  maxOverflow?: number;
  acquireTimeoutMs?: number;
  connectTimeoutMs?: number;
  prePing?: boolean;
  prePingWindowMs?: number;
  maxLifetimeMs?: number;
  maxConnecting?: number;
  /** cistern's connect backoff; the face's default is `false` (none, as in pg-pool). */
  connectBackoff?: PoolOptions['connectBackoff'];
  /** `true`: open `min` clients at start and replace them (cistern's refill). Default false (pg-pool's `min`). */
  refillMinIdle?: boolean;
  maxWaiting?: number;
  order?: 'lifo' | 'fifo';
  leakTimeoutMs?: number;
  resetOnReturn?: boolean;
  /** Run `DISCARD ALL` at every check-in (after rolling back an open transaction). Default false. */
  discardOnReset?: boolean;
  telemetry?: TelemetryOptions | false;
}

export type PoolConfig = PgPoolOptions & CisternPgPoolOptions;

const CISTERN_KEYS = [
  'name',
  'maxOverflow',
  'acquireTimeoutMs',
  'connectTimeoutMs',
  'prePing',
  'prePingWindowMs',
  'maxLifetimeMs',
  'maxConnecting',
  'connectBackoff',
  'refillMinIdle',
  'maxWaiting',
  'order',
  'leakTimeoutMs',
  'resetOnReturn',
  'telemetry',
] as const;

/** pg-pool's "falsy means none" durations: undefined, null, 0, false. */
function millis(option: string, value: unknown): number {
  if (value === undefined || value === null || value === 0 || value === false) return 0;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) {
    throw new PoolConfigError(
      option,
      `invalid pool option ${option}: got ${String(value)}, expected a number of milliseconds >= 0`,
    );
  }
  return n;
}

/** The cistern core options for pg-pool's settings (`options` is pg-pool's own, defaults applied). */
export function coreOptions(options: Record<string, unknown>, config: PoolConfig): PoolOptions {
  const max = Number(options.max);
  const min = Number(options.min ?? 0);
  if (!Number.isInteger(max) || max < 1) {
    throw new PoolConfigError(
      'max',
      `invalid pool option max: got ${String(options.max)}, expected an integer >= 1`,
    );
  }
  if (!Number.isInteger(min) || min < 0 || min > max) {
    throw new PoolConfigError(
      'min',
      `invalid pool option min: got ${String(options.min)}, expected an integer between 0 and max (${max})`,
    );
  }
  const connectionTimeout = millis('connectionTimeoutMillis', options.connectionTimeoutMillis);
  const lifetimeSeconds = millis('maxLifetimeSeconds', options.maxLifetimeSeconds);
  const maxUses = options.maxUses === undefined ? Number.POSITIVE_INFINITY : Number(options.maxUses);
  const core: PoolOptions = {
    size: max,
    maxOverflow: 0,
    // pg-pool's min: idle clients the idle timeout leaves, never opened to reach it
    minIdle: min,
    refillMinIdle: false,
    idleTimeoutMs: millis('idleTimeoutMillis', options.idleTimeoutMillis),
    acquireTimeoutMs: connectionTimeout === 0 ? Number.POSITIVE_INFINITY : connectionTimeout,
    // the face cuts a slow connect at connectionTimeoutMillis as pg-pool does (it destroys the
    // socket and pg reports it); the core's own limit is only a backstop for a custom Client
    // that never calls back
    connectTimeoutMs: connectionTimeout === 0 ? Number.POSITIVE_INFINITY : 2 * connectionTimeout,
    maxUses,
    maxLifetimeMs: lifetimeSeconds * 1000,
    // pg-pool opens as many clients at once as callers need, and retries a failed connect at once
    maxConnecting: max,
    connectBackoff: false,
    order: 'lifo',
  };
  const extra = config as Record<string, unknown>;
  for (const key of CISTERN_KEYS) {
    if (extra[key] !== undefined) (core as Record<string, unknown>)[key] = extra[key];
  }
  // a refill asked for without a backoff of its own gets the core's default backoff
  if (core.refillMinIdle === true && extra.connectBackoff === undefined) delete core.connectBackoff;
  return core;
}
