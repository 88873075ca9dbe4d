/**
 * The core's public types: options, stats, events, and the `PoolInstrumentation` port
 * through which telemetry plugs in without the core importing it. No code.
 */
import type { BeginOptions, IsolationLevel, QueryObserver } from './driver.js';

/** Telemetry settings; interpreted by `cistern/telemetry`, carried opaquely by the core. */
export interface TelemetryOptions {
  /** An OpenTelemetry TracerProvider; the global one by default. */
  tracerProvider?: unknown;
  /** An OpenTelemetry MeterProvider; the global one by default. */
  meterProvider?: unknown;
  /** Put the (parameterized, sanitized) query text in `db.query.text`. Default true. */
  captureQueryText?: boolean;
  /** Log this pool's queries slower than a threshold, without OpenTelemetry (see `logQueries`). Default off. */
  logQueries?: Omit<QueryLogOptions, 'pool'> | false;
}

export interface PoolOptions {
  /** Pool name, also `db.client.connection.pool.name`. Default `host:port/database`. */
  name?: string;
  /** Connections kept open. Default 5. */
  size?: number;
  /** Extra connections opened under load, closed when checked in. `Infinity` allowed. Default 10. */
  maxOverflow?: number;
  /** Connections opened at start and kept warm (<= size). Default 0. */
  minIdle?: number;
  /**
   * `true`: the pool opens connections on its own to keep `minIdle` idle ones (at start,
   * and whenever one is taken or closed). `false`: it opens none on its own; `minIdle`
   * only keeps that many idle connections from the idle timeout (pg-pool's and tarn's
   * `min`), and `ready()` opens the missing ones once. Default true.
   */
  refillMinIdle?: boolean;
  /** Longest wait in `acquire` before `PoolTimeoutError`. Default 30000. */
  acquireTimeoutMs?: number;
  /** Longest wait for one new connection; also bounds a pre-ping, a reset and a driver close. Default 10000. */
  connectTimeoutMs?: number;
  /** Ping a connection before handing it out. Default true. */
  prePing?: boolean;
  /** A connection used this recently is not pinged. Default 500. */
  prePingWindowMs?: number;
  /** Maximum connection age, jittered down by up to 2.5 % per connection; 0 = off. Default 1800000. */
  maxLifetimeMs?: number;
  /** Idle connections beyond `minIdle` are closed after this; 0 = off. Default 600000. */
  idleTimeoutMs?: number;
  /** Close a connection after this many checkouts. Default Infinity. */
  maxUses?: number;
  /** Connections being opened at once. Default 2. */
  maxConnecting?: number;
  /**
   * The wait before connecting again after a round of failed connects: `initialMs`,
   * doubling per failed round up to `maxMs`, jittered by 0.75-1.25; `false` = none (every
   * waiting caller's connect goes out at once, as in pg-pool). Default `{ initialMs: 100, maxMs: 2000 }`.
   */
  connectBackoff?: ConnectBackoffOptions | false;
  /** Callers allowed to wait; one more gets `PoolQueueFullError` at once. Default Infinity. */
  maxWaiting?: number;
  /** Which idle connection is handed out. Default 'lifo'. */
  order?: 'lifo' | 'fifo';
  /** A checkout held longer emits `leak` with the acquirer's stack; 0 = off. Default 0. */
  leakTimeoutMs?: number;
  /** Run the driver's reset at check-in. Default true. */
  resetOnReturn?: boolean;
  /** Telemetry settings, or `false` for none. Default: the global OpenTelemetry providers. */
  telemetry?: TelemetryOptions | false;
  /** Let the process exit while connections sit idle (pg's name; serverless). Default false. */
  allowExitOnIdle?: boolean;
}

/** The connect backoff's settings (`connectBackoff`). */
export interface ConnectBackoffOptions {
  /** The wait after the first failed round. Default 100. */
  initialMs?: number;
  /** The longest wait. Default 2000. */
  maxMs?: number;
}

/** Options after validation and defaults. */
export interface ResolvedPoolOptions {
  name: string;
  size: number;
  maxOverflow: number;
  minIdle: number;
  refillMinIdle: boolean;
  acquireTimeoutMs: number;
  connectTimeoutMs: number;
  prePing: boolean;
  prePingWindowMs: number;
  maxLifetimeMs: number;
  idleTimeoutMs: number;
  maxUses: number;
  maxConnecting: number;
  connectBackoff: Required<ConnectBackoffOptions> | false;
  maxWaiting: number;
  order: 'lifo' | 'fifo';
  leakTimeoutMs: number;
  resetOnReturn: boolean;
  telemetry: TelemetryOptions | false;
  allowExitOnIdle: boolean;
}

export interface AcquireOptions {
  /** Abort the wait; the acquire rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Overrides `acquireTimeoutMs` for this call. */
  timeoutMs?: number;
}

export interface TransactionOptions extends BeginOptions {
  isolation?: IsolationLevel;
  readOnly?: boolean;
  /** Re-run the whole function this many times on a serialization failure or deadlock. Default 0. */
  retries?: number;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface CloseOptions {
  /** How long to wait for checked-out connections before closing them anyway. Default 30000. */
  timeoutMs?: number;
}

export interface PoolStats {
  /** Open connections plus those being opened. */
  size: number;
  idle: number;
  used: number;
  /** Callers waiting in `acquire`. */
  pending: number;
  connecting: number;
  /**
   * Connections handed to the driver's close that has not settled yet (the server may
   * still see them). Not part of `size`; they count against `max` until the close
   * settles or `connectTimeoutMs` passes, so `size + closing <= max`.
   */
  closing: number;
  /** Open connections beyond `size`. */
  overflow: number;
  /** `size + maxOverflow`. */
  max: number;
  generation: number;
}

export type CloseReason =
  | 'overflow'
  | 'recycled'
  | 'idle'
  | 'maxUses'
  | 'stale'
  | 'invalidated'
  | 'poolClosed';
export type CheckoutFailedReason = 'timeout' | 'aborted' | 'closed' | 'queueFull' | 'connectError';

export interface PoolEvents {
  connect: { connectionId: number; durationMs: number };
  connectFailed: { error: unknown; durationMs: number };
  checkout: { connectionId: number; waitMs: number };
  checkoutFailed: { reason: CheckoutFailedReason; error: unknown; waitMs: number };
  checkin: { connectionId: number; heldMs: number };
  invalidate: { connectionId: number; error: unknown };
  close: { connectionId: number; reason: CloseReason };
  clear: { generation: number };
  leak: { connectionId: number; heldMs: number; stack: string };
}

export type PoolEventName = keyof PoolEvents;
export type PoolListener<K extends PoolEventName> = (payload: PoolEvents[K]) => void;

/** What a transaction looked like, for instrumentation. */
export interface TransactionInfo {
  isolation?: IsolationLevel;
  readOnly?: boolean;
  retries: number;
}

/** Handed to an instrumentation's `transaction` wrapper. */
export interface TransactionScope {
  /** A new attempt starts (1-based); `previousError` is what made the last one retry. */
  attempt(n: number, previousError?: unknown): void;
}

export type TransactionOutcome = 'committed' | 'rolled_back' | 'failed';

/**
 * How telemetry (or anything else) plugs into a pool without the core importing it.
 * Built by `cistern/telemetry` and composed by the public `createPool`.
 */
export interface PoolInstrumentation {
  /** Handed to the driver on every connect, to observe queries. */
  readonly observer?: QueryObserver;
  /**
   * Wraps one whole `pool.transaction` call, in the caller's async context.
   * `run` performs every attempt; `settle` reports the outcome.
   */
  transaction?<T>(info: TransactionInfo, run: (scope: TransactionScope) => Promise<T>): Promise<T>;
  /** Called in the caller's async context once `use`/`transaction` got a connection, with the time it waited. */
  acquired?(waitMs: number, connectionId: number): void;
  /** Called once when the pool has closed. */
  dispose?(): void;
}

// ---------------------------------------------------------------- query log (telemetry.logQueries)
// Declared here with the option that carries them; src/diagnostics/query-log.ts interprets them.

/** One logged query. */
export interface QueryLogRecord {
  pool: string;
  connectionId: number;
  system: string;
  durationMs: number;
  text: string | undefined;
  operation: string | undefined;
  /** The failure's code (SQLSTATE, server error number, ECONNRESET, ...) or class name; absent on success. */
  error?: string;
}

type LogMethod = (...args: any[]) => unknown;

/**
 * Where lines go: `console` (the line alone), a pino-like logger (called as
 * `logger[level](record, line)`), or a function given `(line, record)`.
 */
export type QueryLogSink =
  | ((line: string, record: QueryLogRecord) => void)
  | { info: LogMethod; warn?: LogMethod; debug?: LogMethod; error?: LogMethod };

export interface QueryLogOptions {
  /** Log queries taking at least this many milliseconds. Default 0 (every query). */
  thresholdMs?: number;
  /** Default `console`. */
  sink?: QueryLogSink;
  /** The logger method for an object sink. Default 'info'. */
  level?: 'debug' | 'info' | 'warn' | 'error';
  /** Only this pool's queries (by name). Default every pool. */
  pool?: string;
}
