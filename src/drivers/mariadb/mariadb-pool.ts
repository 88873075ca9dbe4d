/**
 * `mariadbPool(pool)`: the shape of the `mariadb` connector's Pool over a cistern pool,
 * for code that takes one (Prisma's `@prisma/adapter-mariadb`).
 *
 * ```ts
 * const pool = createPool(mariadb(url), { size: 10 });
 * const adapter = new PrismaMariaDb(mariadbPool(pool) as never);
 * ```
 *
 * - `query` / `execute` / `batch` on the pool check a connection out for that one command.
 * - `getConnection()` checks one out until `release()` (or `end()`); the connection has
 *   `query`, `execute`, `batch`, `queryStream`, `beginTransaction` / `commit` / `rollback`
 *   (the cistern driver's own statements), `ping`, `escape`, `escapeId`, `threadId`, `info`,
 *   `serverVersion()`, `isValid()` and `on` / `off` / `once` for the connector's `'error'`.
 *   Listeners a holder added are removed at release, so they never fire for the next holder.
 * - A command that failed with a disconnect makes `release()` invalidate the connection.
 * - `end()` closes the cistern pool. Counters read the pool's `stats()`.
 */
import type { QueryOptions, UpsertResult } from 'mariadb';
import type { Pool } from '../../pool/pool.js';
import type { MariadbConnection } from './mariadb-connection.js';

type Listener = (...args: any[]) => void;

/** A checked-out connection in the connector's PoolConnection shape. */
export interface MariadbPoolConnection {
  query<T = any>(sql: string | QueryOptions, values?: unknown): Promise<T>;
  execute<T = any>(sql: string | QueryOptions, values?: unknown): Promise<T>;
  batch<T = UpsertResult | UpsertResult[]>(sql: string | QueryOptions, rows: unknown[]): Promise<T>;
  queryStream(sql: string | QueryOptions, values?: unknown): NodeJS.ReadableStream;
  beginTransaction(): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  ping(): Promise<void>;
  escape(value: unknown): string;
  escapeId(identifier: string): string;
  isValid(): boolean;
  serverVersion(): string;
  readonly threadId: number | null;
  readonly info: unknown;
  on(event: string, listener: Listener): this;
  once(event: string, listener: Listener): this;
  off(event: string, listener: Listener): this;
  removeListener(event: string, listener: Listener): this;
  /** Check the connection back in (idempotent). */
  release(): Promise<void>;
  /** Same as `release()` (as on the connector's pool connections). */
  end(): Promise<void>;
}

/** The connector's Pool shape, backed by a cistern pool. */
export interface MariadbPoolFace {
  getConnection(): Promise<MariadbPoolConnection>;
  query<T = any>(sql: string | QueryOptions, values?: unknown): Promise<T>;
  execute<T = any>(sql: string | QueryOptions, values?: unknown): Promise<T>;
  batch<T = UpsertResult | UpsertResult[]>(sql: string | QueryOptions, rows: unknown[]): Promise<T>;
  /** Closes the cistern pool. */
  end(): Promise<void>;
  escape(value: unknown): string;
  escapeId(identifier: string): string;
  activeConnections(): number;
  totalConnections(): number;
  idleConnections(): number;
  taskQueueSize(): number;
  /** The cistern pool behind this face. */
  readonly pool: Pool<MariadbConnection>;
}

class FaceConnection implements MariadbPoolConnection {
  readonly #pool: Pool<MariadbConnection>;
  readonly #conn: MariadbConnection;
  #released = false;
  #failure: unknown;
  #listeners: [string, Listener][] | undefined;

  constructor(pool: Pool<MariadbConnection>, conn: MariadbConnection) {
    this.#pool = pool;
    this.#conn = conn;
  }

  #live(): MariadbConnection {
    if (this.#released)
      throw new TypeError('mariadbPool: this connection was released; call getConnection() again');
    return this.#conn;
  }

  #watch<T>(promise: Promise<T>): Promise<T> {
    return promise.catch((error: unknown) => {
      let dead = false;
      try {
        dead = this.#pool.driver.isDisconnect(error);
      } catch {}
      if (dead) this.#failure = error;
      throw error;
    });
  }

  query<T = any>(sql: string | QueryOptions, values?: unknown): Promise<T> {
    return this.#watch(this.#live().query<T>(sql, values));
  }
  execute<T = any>(sql: string | QueryOptions, values?: unknown): Promise<T> {
    return this.#watch(this.#live().execute<T>(sql, values));
  }
  batch<T = UpsertResult | UpsertResult[]>(sql: string | QueryOptions, rows: unknown[]): Promise<T> {
    return this.#watch(this.#live().batch<T>(sql, rows));
  }
  /** On the connector's own connection: telemetry does not see streamed queries. */
  queryStream(sql: string | QueryOptions, values?: unknown): NodeJS.ReadableStream {
    return this.#live().raw.queryStream(sql, values);
  }
  beginTransaction(): Promise<void> {
    return this.#watch(this.#pool.driver.begin!(this.#live(), {}));
  }
  commit(): Promise<void> {
    return this.#watch(this.#pool.driver.commit!(this.#live()));
  }
  rollback(): Promise<void> {
    return this.#watch(this.#pool.driver.rollback!(this.#live()));
  }
  ping(): Promise<void> {
    return this.#watch(this.#live().raw.ping());
  }
  escape(value: unknown): string {
    return this.#conn.raw.escape(value);
  }
  escapeId(identifier: string): string {
    return this.#conn.raw.escapeId(identifier);
  }
  isValid(): boolean {
    return !this.#released && this.#conn.raw.isValid();
  }
  serverVersion(): string {
    return this.#conn.serverVersion;
  }
  get threadId(): number | null {
    return this.#conn.raw.threadId;
  }
  get info(): unknown {
    return this.#conn.raw.info;
  }

  on(event: string, listener: Listener): this {
    this.#live().raw.on(event as 'error', listener);
    (this.#listeners ??= []).push([event, listener]);
    return this;
  }
  once(event: string, listener: Listener): this {
    this.#live().raw.once(event as 'error', listener);
    (this.#listeners ??= []).push([event, listener]);
    return this;
  }
  off(event: string, listener: Listener): this {
    this.#conn.raw.off(event as 'error', listener);
    return this;
  }
  removeListener(event: string, listener: Listener): this {
    return this.off(event, listener);
  }

  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    if (this.#listeners !== undefined) {
      for (const [event, listener] of this.#listeners) this.#conn.raw.off(event as 'error', listener);
      this.#listeners = undefined;
    }
    if (this.#failure !== undefined) this.#pool.invalidate(this.#conn, this.#failure);
    else this.#pool.release(this.#conn);
  }
  end(): Promise<void> {
    return this.release();
  }
}

/** A mariadb-Pool-shaped face over a cistern pool of `cistern/mariadb` connections. */
export function mariadbPool(pool: Pool<MariadbConnection>): MariadbPoolFace {
  if (typeof pool !== 'object' || pool === null || typeof pool.acquire !== 'function') {
    throw new TypeError('mariadbPool(pool): pool must be a cistern pool of cistern/mariadb connections');
  }
  let escaper: MariadbConnection['raw'] | undefined;
  const remember = (c: MariadbConnection): MariadbConnection => {
    escaper ??= c.raw;
    return c;
  };
  const needEscaper = (): MariadbConnection['raw'] => {
    if (escaper === undefined) {
      throw new TypeError('mariadbPool: escape() needs one connection opened first (run any query)');
    }
    return escaper;
  };
  return {
    pool,
    async getConnection() {
      return new FaceConnection(pool, remember(await pool.acquire()));
    },
    query: (sql, values) => pool.use((c) => remember(c).query(sql, values)),
    execute: (sql, values) => pool.use((c) => remember(c).execute(sql, values)),
    batch: (sql, rows) => pool.use((c) => remember(c).batch(sql, rows)),
    end: () => pool.close(),
    escape: (value) => needEscaper().escape(value),
    escapeId: (identifier) => needEscaper().escapeId(identifier),
    activeConnections: () => pool.stats().used,
    totalConnections: () => pool.stats().size,
    idleConnections: () => pool.stats().idle,
    taskQueueSize: () => pool.stats().pending,
  };
}
