/**
 * The connection a MariaDB pool hands out: `query`, `execute`, `batch` and `raw`.
 *
 * Two implementations, chosen once at connect: a plain one that calls the
 * connector straight through (no telemetry, no cost), and an observed one that
 * opens a query scope right before each command is sent and ends it when the
 * command settles.
 */
import type { Socket } from 'node:net';
import type { Connection, QueryOptions, UpsertResult } from 'mariadb';
import type { ConnectionMeta, QueryInfo, QueryObserver } from '../../pool/driver.js';

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
  /** True while the server reports an open transaction (status flag of the last reply). */
  readonly inTransaction: boolean;
}

const STATUS_IN_TRANS = 1;

/** Transaction control statements, sent through the same (observed) path as queries. */
export type ControlOperation = 'BEGIN' | 'COMMIT' | 'ROLLBACK';

function textOf(sql: string | QueryOptions): string {
  return typeof sql === 'string' ? sql : sql.sql;
}

function hasValues(sql: string | QueryOptions, values: unknown): boolean {
  const v = values ?? (typeof sql === 'object' ? (sql as { values?: unknown }).values : undefined);
  return v !== undefined && !(Array.isArray(v) && v.length === 0);
}

/** No observer: every method is a straight call into the connector. */
export class PlainMariadbConnection implements MariadbConnection {
  readonly raw: Connection;
  readonly meta: ConnectionMeta;
  /** Our own socket under the connector, when we created it (not with TLS or a user `stream`). */
  readonly #socket: Socket | undefined;
  /** Set when the connector reported a fatal error. */
  dead = false;
  /**
   * Commands sent through this object and not settled yet. The connector's `end()`
   * drops pending commands without settling them, so `close` must know.
   */
  pending = 0;

  constructor(raw: Connection, meta: ConnectionMeta, socket: Socket | undefined) {
    this.raw = raw;
    this.meta = meta;
    this.#socket = socket;
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

  /** Count the command as pending until it settles; the caller's promise keeps its rejection. */
  protected track<T>(promise: Promise<T>): Promise<T> {
    this.pending++;
    return promise.then(this.#settled, this.#failed) as Promise<T>;
  }

  // bound once per connection: no closure per command
  readonly #settled = (result: unknown): unknown => {
    this.pending--;
    return result;
  };
  readonly #failed = (error: unknown): never => {
    this.pending--;
    throw error;
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
    return ((this.raw.info?.status ?? 0) & STATUS_IN_TRANS) !== 0;
  }

  query<T = any>(sql: string | QueryOptions, values?: unknown): Promise<T> {
    return this.track(this.raw.query<T>(sql, values));
  }

  execute<T = any>(sql: string | QueryOptions, values?: unknown): Promise<T> {
    return this.track(this.raw.execute<T>(sql, values));
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

  constructor(raw: Connection, meta: ConnectionMeta, socket: Socket | undefined, observer: QueryObserver) {
    super(raw, meta, socket);
    this.#observer = observer;
  }

  #observe<T>(info: QueryInfo, send: () => Promise<T>): Promise<T> {
    const scope = this.#observer.start(info, this.meta);
    let sent: Promise<T>;
    try {
      sent = send();
    } catch (error) {
      scope.end(error);
      throw error;
    }
    this.pending++;
    return sent.then(
      (result) => {
        this.pending--;
        scope.end();
        return result;
      },
      (error: unknown) => {
        this.pending--;
        scope.end(error);
        throw error;
      },
    );
  }

  override query<T = any>(sql: string | QueryOptions, values?: unknown): Promise<T> {
    const info: QueryInfo = { text: textOf(sql) };
    if (!hasValues(sql, values)) info.unparameterized = true;
    return this.#observe(info, () => this.raw.query<T>(sql, values));
  }

  override execute<T = any>(sql: string | QueryOptions, values?: unknown): Promise<T> {
    const info: QueryInfo = { text: textOf(sql) };
    if (!hasValues(sql, values)) info.unparameterized = true;
    return this.#observe(info, () => this.raw.execute<T>(sql, values));
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
