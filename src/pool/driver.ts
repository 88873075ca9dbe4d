/**
 * The Driver interface: the only thing the pool core knows about a database.
 *
 * A driver opens exactly ONE physical connection per pooled connection (never a
 * pool inside the pool), and tells the core how to ping, reset and close it, how
 * to run transaction control statements, and which errors mean "this connection
 * is dead". It also describes its target so telemetry can label spans and metrics.
 *
 * This file must stay free of any driver package and of `@opentelemetry/*`.
 */

/** What a driver connects to, for pool names, telemetry and error messages. Never a password. */
export interface DriverTarget {
  /** OpenTelemetry `db.system.name`: 'postgresql', 'mariadb', 'mysql', 'mongodb', or anything for generic resources. */
  system: string;
  host?: string;
  port?: number;
  database?: string;
  user?: string;
}

/** Isolation levels understood by the SQL drivers. */
export type IsolationLevel = 'read uncommitted' | 'read committed' | 'repeatable read' | 'serializable';

export interface BeginOptions {
  isolation?: IsolationLevel;
  readOnly?: boolean;
}

/**
 * Information about one query or command, handed to a {@link QueryObserver}
 * before it runs. Text is the parameterized text as sent; never parameter values.
 */
export interface QueryInfo {
  /** Parameterized query text as sent to the server (placeholders, not values). */
  text?: string;
  /** Operation name when the driver knows it (MongoDB command name, 'BEGIN', ...). */
  operation?: string;
  /** Collection / table when the driver knows it (MongoDB). */
  collection?: string;
  /** Database / namespace when it differs from the target's. */
  namespace?: string;
  /** Number of operations in a batch (`db.operation.batch.size`), when > 1. */
  batchSize?: number;
  /** True when `text` contains no placeholders and may carry literals (telemetry sanitizes it). */
  unparameterized?: boolean;
}

/** Returned by {@link QueryObserver.start}; call `end` exactly once. */
export interface QueryScope {
  end(error?: unknown): void;
}

/**
 * Per-pool hook for query instrumentation, handed to the driver in `connect`.
 * `start` is called synchronously in the caller's async context, right before
 * the query is sent; `end` when it settles. When no observer is given the
 * driver must not pay for one (check once, not per query).
 */
export interface QueryObserver {
  start(info: QueryInfo, connection: ConnectionMeta): QueryScope;
  /**
   * Optional: false when nothing would be recorded right now (no OpenTelemetry SDK
   * registered). A driver may check it per query and skip its own observation work.
   */
  active?(): boolean;
}

/** What the observer may know about the physical connection a query runs on. */
export interface ConnectionMeta {
  /** The pool's id for this connection. */
  readonly connectionId: number;
  /** The target the driver reached (a driver may refine `system`, e.g. 'mysql' vs 'mariadb', once connected). */
  readonly target: DriverTarget;
}

/** Everything `Driver.connect` gets from the pool. */
export interface ConnectContext {
  /** The pool's id for the new connection. */
  connectionId: number;
  /** Give up after this long (the pool's `connectTimeoutMs`). The pool also enforces it. */
  timeoutMs: number;
  /** Aborted when the pool gives up on this connect (timeout or close). */
  signal: AbortSignal;
  /** Query instrumentation, when telemetry is on. */
  observer?: QueryObserver;
  /**
   * Call when the driver learns, outside of any query, that the physical
   * connection died (socket closed, fatal error event). The pool then never
   * hands it out again and closes it at the next chance.
   */
  onDead(error?: unknown): void;
}

export interface Driver<C> {
  /** Short driver name, e.g. 'postgres', 'mariadb', 'mongodb', 'factory'. */
  readonly name: string;
  /** Where this driver connects; used for the default pool name and telemetry. */
  readonly target: DriverTarget;

  /** Open one physical connection. Must reject (not hang) when `ctx.signal` aborts. */
  connect(ctx: ConnectContext): Promise<C>;
  /** A real round trip. Resolve `true` (or void) when alive; `false` or a rejection means dead. */
  ping(conn: C): Promise<boolean | undefined | void>;
  /** Close the physical connection. Must not reject for an already-dead connection. */
  close(conn: C): Promise<void>;
  /**
   * Restore the connection for its next user (roll back an open transaction, reset session state).
   * Return nothing (synchronously) when there is nothing to do: check-in then stays on the fast path.
   */
  reset?(conn: C): Promise<void> | void;
  /**
   * Optional, for `allowExitOnIdle`: the pool calls `setIdle(conn, true)` when a connection
   * goes into the idle list and `setIdle(conn, false)` when it leaves it (checked out,
   * pinged, closed). A driver lets an idle connection's socket stop holding the process
   * open (`socket.unref()`) and holds it again when busy (`socket.ref()`). Must not throw
   * (a throw is ignored).
   */
  setIdle?(conn: C, idle: boolean): void;
  /** Cheap synchronous liveness check (e.g. the socket is known closed). */
  isAlive?(conn: C): boolean;
  /** True when `error` means the physical connection is dead (the pool invalidates it and clears). */
  isDisconnect(error: unknown): boolean;
  /** True when a transaction failed in a way that makes re-running it sensible (serialization failure, deadlock). */
  isRetryable?(error: unknown): boolean;

  /** Transaction control; required for `pool.transaction`. */
  begin?(conn: C, options: BeginOptions): Promise<void>;
  commit?(conn: C): Promise<void>;
  rollback?(conn: C): Promise<void>;
  /**
   * Run `fn` inside a driver-managed transaction instead of begin/commit/rollback
   * (MongoDB sessions). When present the pool uses it for `pool.transaction`.
   */
  runTransaction?<T>(conn: C, options: BeginOptions, fn: (tx: C) => Promise<T>): Promise<T>;
}
