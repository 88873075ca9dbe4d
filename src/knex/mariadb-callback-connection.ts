/**
 * The `mariadb/callback` connection shape knex's 'mariadb' dialect calls, over one
 * checked-out cistern/mariadb connection: `query(options, values, cb)` (and
 * `query(sql, cb)`), `query(...).stream()`, `threadId`, `isValid()`, error listeners.
 * Queries go through the cistern connection, so telemetry sees them.
 */
import type { MariadbConnection } from '../drivers/mariadb/mariadb-connection.js';

type Callback = (error: unknown, rows?: unknown, meta?: unknown) => void;
type Listener = (...args: any[]) => void;

export class MariadbCallbackConnection {
  /** The cistern connection behind this view. */
  readonly conn: MariadbConnection;
  /** Set by knex (or by us on a disconnect): release then invalidates the connection. */
  __knex__disposed: unknown;
  __knexUid: string | undefined;
  /** Handed out by the knex face right now. */
  held = false;
  readonly #isDisconnect: (error: unknown) => boolean;
  /** What `query()` returns: `.stream()` runs the last query given without a callback. */
  readonly #streamer = {
    stream: (): NodeJS.ReadableStream => this.conn.raw.queryStream(this.#sql as string, this.#values),
  };
  #sql: unknown;
  #values: unknown;

  constructor(conn: MariadbConnection, isDisconnect: (error: unknown) => boolean) {
    this.conn = conn;
    this.#isDisconnect = isDisconnect;
  }

  get threadId(): number {
    return this.conn.threadId;
  }

  isValid(): boolean {
    return this.conn.raw.isValid();
  }

  query(
    sql: unknown,
    values?: unknown,
    callback?: Callback,
  ): { stream(options?: object): NodeJS.ReadableStream } {
    if (typeof values === 'function') {
      callback = values as Callback;
      values = undefined;
    }
    if (callback === undefined) {
      // knex streams with `query(options, bindings).stream(options)` and no callback
      this.#sql = sql;
      this.#values = values;
      return this.#streamer;
    }
    const cb = callback;
    this.conn.query(sql as string, values).then(
      (rows: any) => cb(null, rows, rows?.meta),
      (error: unknown) => {
        let dead = false;
        try {
          dead = this.#isDisconnect(error);
        } catch {}
        if (dead) this.__knex__disposed = error;
        cb(error);
      },
    );
    return this.#streamer;
  }

  on(event: string, listener: Listener): this {
    this.conn.raw.on(event as 'error', listener);
    return this;
  }
  off(event: string, listener: Listener): this {
    this.conn.raw.off(event as 'error', listener);
    return this;
  }
  removeListener(event: string, listener: Listener): this {
    return this.off(event, listener);
  }
}
