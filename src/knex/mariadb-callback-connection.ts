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
  readonly #isDisconnect: (error: unknown) => boolean;

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
    const conn = this.conn;
    if (callback !== undefined) {
      const cb = callback;
      conn.query(sql as string, values).then(
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
    }
    return {
      // knex streams with `query(options, bindings).stream(options)` and no callback
      stream: () => conn.raw.queryStream(sql as string, values),
    };
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
