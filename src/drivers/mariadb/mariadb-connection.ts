/**
 * One pooled MariaDB / MySQL connection: the public `MariadbConnection` (`query`, `execute`,
 * `batch`, `raw`) and the classes behind it, which hold all per-connection state (`dead`, the
 * commands pending, the server status around the command in flight). The static `open` makes
 * the one connector `Connection` (the handshake: open-connection.ts) and wires its death to
 * `ctx.onDead`; `ping`, `reset`, `close`, `setIdle`, `begin` / `commit` / `rollback` act on it.
 *
 * Two implementations, chosen once at connect: a plain one that calls the
 * connector straight through (no telemetry, no cost), and an observed one that
 * opens a query scope right before each command is sent and ends it when the
 * command settles.
 */
import type { Socket } from 'node:net';
import type { Connection, QueryOptions, UpsertResult } from 'mariadb';
import type {
  BeginOptions,
  ConnectContext,
  ConnectionMeta,
  DriverTarget,
  QueryInfo,
  QueryObserver,
} from '../../pool/driver.js';
import type { MariadbDriverSettings, ResolvedMariadbOptions } from './mariadb-options.js';
import { explainTlsFailure } from './mariadb-tls.js';
import { openConnection } from './open-connection.js';
import { beginStatements, COMMIT, ROLLBACK } from './transaction-sql.js';

/** A pooled MariaDB / MySQL connection: exactly one connector `Connection`. */
export interface MariadbConnection {
  /** Text protocol; `values` are sent separately from the SQL (client-side placeholders, escaped by the connector). */
  query<T = any>(sql: string | QueryOptions, values?: unknown): Promise<T>;
  /** Binary protocol: server-side prepared statement (cached per connection by the connector). */
  execute<T = any>(sql: string | QueryOptions, values?: unknown): Promise<T>;
  /** One statement, many parameter rows (MariaDB bulk protocol when available). */
  batch<T = UpsertResult | UpsertResult[]>(sql: string | QueryOptions, rows: unknown[]): Promise<T>;
  /** The connector's own Connection. Queries sent through it bypass the query observer. */
  readonly raw: Connection;
  /** The server's connection id (`CONNECTION_ID()`), what `KILL` takes. */
  readonly threadId: number;
  /** 'mariadb' or 'mysql', from the server version string of this connection. */
  readonly system: 'mariadb' | 'mysql';
  /** The server version string, e.g. '10.11.6-MariaDB-0+deb12u1'. */
  readonly serverVersion: string;
  /**
   * True while a transaction may be open: the server's status flag of the last reply.
   * After an error reply (which carries no status) the connector assumes a transaction;
   * a failed single statement sent outside a transaction with autocommit on reads false.
   */
  readonly inTransaction: boolean;
}

const STATUS_IN_TRANS = 1;
const STATUS_AUTOCOMMIT = 2;
/** No status known for the command in flight (several in flight, a batch, or none sent). */
const UNKNOWN = -1;

/**
 * One statement at most: a text with no `;` before its end. A multi-statement text
 * (`multipleStatements`) may have opened a transaction before its failing statement.
 */
function singleStatement(sql: string | QueryOptions): boolean {
  const text = typeof sql === 'string' ? sql : sql?.sql;
  if (typeof text !== 'string') return false;
  const at = text.indexOf(';');
  return at < 0 || text.slice(at + 1).trim() === '';
}

/** Transaction control statements, sent through the same (observed) path as queries. */
export type ControlOperation = 'BEGIN' | 'COMMIT' | 'ROLLBACK';

function textOf(sql: string | QueryOptions): string {
  return typeof sql === 'string' ? sql : sql.sql;
}

function hasValues(sql: string | QueryOptions, values: unknown): boolean {
  const v = values ?? (typeof sql === 'object' ? (sql as { values?: unknown }).values : undefined);
  return v !== undefined && !(Array.isArray(v) && v.length === 0);
}

/** Longest wait for COM_QUIT to be written before the socket is destroyed. */
const CLOSE_GRACE_MS = 1000;

function closedWhileBusy(): Error {
  const error = new Error('the pool closed this connection while a command was running') as Error & {
    code: string;
  };
  error.code = 'ERR_SOCKET_CLOSED';
  return error;
}

/** No observer: every method is a straight call into the connector. */
export class PlainMariadbConnection implements MariadbConnection {
  readonly raw: Connection;
  readonly meta: ConnectionMeta;
  /** Our own socket under the connector, when we created it (not with TLS or a user `stream`). */
  readonly #socket: Socket | undefined;
  /** The driver's settings (`resetConnection`, `pingTimeoutMs`), the same for every connection. */
  readonly #settings: Required<MariadbDriverSettings>;
  /** Set when the connector reported a fatal error. */
  dead = false;
  /**
   * Commands sent through this object and not settled yet. The connector's `end()`
   * drops pending commands without settling them, so `close` must know.
   */
  pending = 0;
  /** The server status before the one tracked command in flight, or UNKNOWN. */
  #sentStatus = UNKNOWN;
  /** The text of that command (query / execute), for the one-statement check after an error. */
  #sentSql: string | QueryOptions | undefined = undefined;
  /**
   * `bytesRead` of our socket right after an error reply known to leave no transaction
   * open; while nothing more was read, the connector's forced in-transaction flag is wrong.
   */
  #noTransactionAt = UNKNOWN;

  /** Made by {@link PlainMariadbConnection.open}. */
  constructor(
    raw: Connection,
    meta: ConnectionMeta,
    socket: Socket | undefined,
    settings: Required<MariadbDriverSettings>,
  ) {
    this.raw = raw;
    this.meta = meta;
    this.#socket = socket;
    this.#settings = settings;
  }

  /**
   * Open one connection (open-connection.ts; a TLS failure is explained by mariadb-tls.ts),
   * observed when `ctx.observer` is set. `target` is the driver's: its `system` turns to
   * 'mysql' once a connection reached a MySQL server; `targets` are the frozen per-system
   * targets every connection's meta shares.
   */
  static async open(
    ctx: ConnectContext,
    options: ResolvedMariadbOptions,
    target: DriverTarget,
    targets: Record<'mariadb' | 'mysql', DriverTarget>,
  ): Promise<PlainMariadbConnection> {
    const { raw, socket } = await openConnection({
      config: options.config,
      display: options.display,
      timeoutMs: ctx.timeoutMs,
      signal: ctx.signal,
    }).catch((error: unknown) => {
      const o = options;
      throw explainTlsFailure(error, o.display, o.target.host ?? 'localhost', o.config.ssl);
    });
    const system = raw.info?.isMariaDB() === false ? 'mysql' : 'mariadb';
    target.system = system;
    const meta: ConnectionMeta = { connectionId: ctx.connectionId, target: targets[system] };
    const conn =
      ctx.observer === undefined
        ? new PlainMariadbConnection(raw, meta, socket, options.settings)
        : new ObservedMariadbConnection(raw, meta, socket, options.settings, ctx.observer);
    // Without an 'error' listener the connector throws an uncaught exception when the
    // server closes an idle connection (KILL, wait_timeout, shutdown).
    raw.on('error', (error: unknown) => {
      conn.dead = true;
      ctx.onDead(error);
    });
    return conn;
  }

  /** Neither marked dead by the connector's 'error' nor closed as the connector sees it. */
  get alive(): boolean {
    return !this.dead && this.raw.isValid();
  }

  /** COM_PING, within `pingTimeoutMs`; false when the connection is known dead. */
  async ping(): Promise<boolean> {
    const raw = this.raw;
    if (this.dead || !raw.isValid()) return false;
    await (raw.ping as (timeoutMs?: number) => Promise<void>)(this.#settings.pingTimeoutMs);
    return true;
  }

  /**
   * Default: roll back a transaction left open, known from the server's status flags
   * (no round trip when none is open). With `resetConnection`: COM_RESET_CONNECTION,
   * which also clears user variables, temporary tables, prepared statements and session
   * settings. Rejects when the connection cannot be restored, so the pool closes it.
   */
  reset(): Promise<void> | undefined {
    if (this.#settings.resetConnection) return this.raw.reset();
    // nothing to undo: return synchronously, the pool's check-in stays on its fast path
    if (!this.inTransaction) return undefined;
    return this.control('ROLLBACK', ROLLBACK);
  }

  /**
   * Idle: COM_QUIT then the socket closes (graceful, the server logs no aborted client).
   * Commands still pending (a forced close): the socket is destroyed with an error, which
   * makes the connector reject every pending command at once; the connector's `end()`
   * would leave them unsettled forever. Never rejects.
   */
  async close(): Promise<void> {
    const raw = this.raw;
    if (this.dead || !raw.isValid()) return;
    if (this.pending > 0) {
      if (!this.destroySocket(closedWhileBusy())) raw.destroy();
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        raw.end(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, CLOSE_GRACE_MS);
          timer.unref();
        }),
      ]);
    } catch {
      // ending a connection that just died: nothing left to do
    } finally {
      clearTimeout(timer);
    }
    this.destroySocket();
  }

  async begin(options: BeginOptions): Promise<void> {
    try {
      await this.control('BEGIN', beginStatements(options));
    } catch (error) {
      // a pipelined SET TRANSACTION may have failed after START TRANSACTION got queued
      if (this.inTransaction && this.raw.isValid()) await this.raw.query('ROLLBACK').catch(() => {});
      throw error;
    }
  }

  commit(): Promise<void> {
    return this.control('COMMIT', COMMIT);
  }

  rollback(): Promise<void> {
    return this.control('ROLLBACK', ROLLBACK);
  }

  /**
   * Tear the socket down with `error`: the connector then rejects every pending command
   * at once. False when the socket is not ours (TLS, a user `stream`).
   */
  destroySocket(error?: Error): boolean {
    if (this.#socket === undefined) return false;
    this.#socket.destroy(error);
    return true;
  }

  /**
   * `allowExitOnIdle`: an idle connection's socket stops holding the process open; a busy
   * one holds it again. Only for our own socket (not with TLS or a user `stream`).
   */
  setIdle(idle: boolean): void {
    const socket = this.#socket;
    if (socket === undefined || socket.destroyed) return;
    if (idle) socket.unref();
    else socket.ref();
  }

  /**
   * Count the command as pending until it settles. The caller gets the connector's own
   * promise: its await resumes in the same microtask round as the bookkeeping reaction
   * (registered first, so it runs first) instead of one round later. The reaction's own
   * promise and job remain (measured: 14 promises and 8 jobs per `use` either way).
   * `sql` (query / execute) names one command whose reply, when it is an error, may be
   * judged to have left no transaction (see `inTransaction`).
   */
  protected track<T>(promise: Promise<T>, sql?: string | QueryOptions): Promise<T> {
    this.sent(sql);
    promise.then(this.#settled, this.#failed);
    return promise;
  }

  /** A command was just written (its reply is not read yet): count it, note the status before it. */
  protected sent(sql: string | QueryOptions | undefined): void {
    // one expression on purpose: this is inlined where the caller's query runs (the pool's
    // runLoan), and every byte of it counts against that function's inlining budget
    this.#sentStatus =
      this.pending++ === 0 && sql !== undefined ? (this.raw.info?.status ?? UNKNOWN) : UNKNOWN;
    this.#sentSql = sql;
  }

  /**
   * A command failed. The connector sets STATUS_IN_TRANS after any error reply (an ERR
   * packet carries no status). One statement sent with no transaction open and autocommit
   * on cannot leave one open: remember where the stream was, so check-in sends no needless
   * ROLLBACK.
   */
  protected failed(): void {
    const before = this.#sentStatus;
    if (
      this.pending === 1 &&
      before !== UNKNOWN &&
      (before & (STATUS_IN_TRANS | STATUS_AUTOCOMMIT)) === STATUS_AUTOCOMMIT &&
      this.#socket !== undefined &&
      this.#sentSql !== undefined &&
      singleStatement(this.#sentSql)
    ) {
      this.#noTransactionAt = this.#socket.bytesRead;
    }
    this.#sentStatus = UNKNOWN;
    this.#sentSql = undefined;
    this.pending--;
  }

  // bound once per connection: no closure per command
  readonly #settled = (): void => {
    this.pending--;
  };
  // the caller's promise carries the rejection; this branch only counts it
  readonly #failed = (): void => {
    this.failed();
  };

  get threadId(): number {
    return this.raw.threadId ?? -1;
  }

  get system(): 'mariadb' | 'mysql' {
    return this.meta.target.system === 'mysql' ? 'mysql' : 'mariadb';
  }

  get serverVersion(): string {
    return this.raw.serverVersion();
  }

  get inTransaction(): boolean {
    if (((this.raw.info?.status ?? 0) & STATUS_IN_TRANS) === 0) return false;
    // nothing read since an error reply that left no transaction: the flag is the connector's guess
    const socket = this.#socket;
    return (
      socket === undefined || this.#noTransactionAt === UNKNOWN || socket.bytesRead !== this.#noTransactionAt
    );
  }

  query<T = any>(sql: string | QueryOptions, values?: unknown): Promise<T> {
    return this.track(this.raw.query<T>(sql, values), sql);
  }

  execute<T = any>(sql: string | QueryOptions, values?: unknown): Promise<T> {
    return this.track(this.raw.execute<T>(sql, values), sql);
  }

  batch<T = UpsertResult | UpsertResult[]>(sql: string | QueryOptions, rows: unknown[]): Promise<T> {
    return this.track(this.raw.batch<T>(sql, rows));
  }

  /** Run transaction control statements; several are pipelined (one round trip). */
  control(_operation: ControlOperation, statements: readonly string[]): Promise<void> {
    return this.track(sendAll(this.raw, statements));
  }
}

function sendAll(raw: Connection, statements: readonly string[]): Promise<void> {
  if (statements.length === 1) return raw.query(statements[0]).then(noop);
  // the connector pipelines commands: all are written before the first reply is read
  return Promise.all(statements.map((s) => raw.query(s))).then(noop);
}

function noop(): void {}

/** With an observer: each command opens a scope right before it is sent and ends it when it settles. */
export class ObservedMariadbConnection extends PlainMariadbConnection {
  readonly #observer: QueryObserver;

  /** Made by {@link PlainMariadbConnection.open} when the pool has a query observer. */
  constructor(
    raw: Connection,
    meta: ConnectionMeta,
    socket: Socket | undefined,
    settings: Required<MariadbDriverSettings>,
    observer: QueryObserver,
  ) {
    super(raw, meta, socket, settings);
    this.#observer = observer;
  }

  #observe<T>(info: QueryInfo, send: () => Promise<T>, sql?: string | QueryOptions): Promise<T> {
    const scope = this.#observer.start(info, this.meta);
    let sent: Promise<T>;
    try {
      sent = send();
    } catch (error) {
      scope.end(error);
      throw error;
    }
    this.sent(sql);
    return sent.then(
      (result) => {
        this.pending--;
        scope.end();
        return result;
      },
      (error: unknown) => {
        this.failed();
        scope.end(error);
        throw error;
      },
    );
  }

  override query<T = any>(sql: string | QueryOptions, values?: unknown): Promise<T> {
    const info: QueryInfo = { text: textOf(sql) };
    if (!hasValues(sql, values)) info.unparameterized = true;
    return this.#observe(info, () => this.raw.query<T>(sql, values), sql);
  }

  override execute<T = any>(sql: string | QueryOptions, values?: unknown): Promise<T> {
    const info: QueryInfo = { text: textOf(sql) };
    if (!hasValues(sql, values)) info.unparameterized = true;
    return this.#observe(info, () => this.raw.execute<T>(sql, values), sql);
  }

  override batch<T = UpsertResult | UpsertResult[]>(sql: string | QueryOptions, rows: unknown[]): Promise<T> {
    const info: QueryInfo = { text: textOf(sql) };
    if (Array.isArray(rows) && rows.length > 1) info.batchSize = rows.length;
    return this.#observe(info, () => this.raw.batch<T>(sql, rows));
  }

  override control(operation: ControlOperation, statements: readonly string[]): Promise<void> {
    return this.#observe({ text: statements.join('; '), operation }, () => sendAll(this.raw, statements));
  }
}
