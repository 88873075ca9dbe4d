/**
 * A fake SQL driver for the telemetry tests: one "connection" per connect, a
 * `query` that reports to the pool's QueryObserver exactly as real drivers do
 * (start synchronously in the caller's async context, end when it settles), and
 * BEGIN / COMMIT / ROLLBACK through the observer. Never a stand-in for a server.
 */
import type {
  BeginOptions,
  ConnectContext,
  ConnectionMeta,
  Driver,
  DriverTarget,
  QueryObserver,
} from '../../src/pool/driver.js';

/** A database error shaped like postgres.js's PostgresError (SQLSTATE in `code`). */
export class FakeSqlError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'FakeSqlError';
  }
}

export const SERIALIZATION_FAILURE = '40001';

export interface FakeQueryOptions {
  /** Reject with this error after the round trip. */
  fail?: unknown;
  /** Text carries literals instead of placeholders. */
  unparameterized?: boolean;
  /** Report a batch of this many operations. */
  batchSize?: number;
}

export class FakeSqlConnection {
  readonly log: string[] = [];
  readonly meta: ConnectionMeta;
  constructor(
    readonly id: number,
    target: DriverTarget,
    private readonly observer: QueryObserver | undefined,
    private readonly driver: FakeSqlDriver,
  ) {
    this.meta = { connectionId: id, target };
  }

  /** Run a query: parameters are never shown to the observer. */
  query(text: string, params: unknown[] = [], options: FakeQueryOptions = {}): Promise<{ rows: unknown[] }> {
    const scope = this.observer?.start(
      { text, unparameterized: options.unparameterized, batchSize: options.batchSize },
      this.meta,
    );
    this.log.push(text);
    return this.driver.roundTrip().then(() => {
      if (options.fail !== undefined) {
        scope?.end(options.fail);
        throw options.fail;
      }
      scope?.end();
      return { rows: params.map((p) => ({ value: p })) };
    });
  }

  control(operation: string, text: string, fail?: unknown): Promise<void> {
    const scope = this.observer?.start({ text, operation }, this.meta);
    this.log.push(text);
    return this.driver.roundTrip().then(() => {
      if (fail !== undefined) {
        scope?.end(fail);
        throw fail;
      }
      scope?.end();
    });
  }
}

export class FakeSqlDriver implements Driver<FakeSqlConnection> {
  readonly name = 'fake-sql';
  readonly target: DriverTarget;
  readonly connections: FakeSqlConnection[] = [];
  /** Macrotask turns each round trip takes (so concurrent callers interleave). */
  turns = 1;
  /** COMMIT fails with this (once per value set), e.g. a serialization failure. */
  commitErrors: unknown[] = [];
  #ids = 0;

  constructor(target: Partial<DriverTarget> = {}) {
    this.target = {
      system: 'postgresql',
      host: '127.0.0.1',
      port: 5432,
      database: 'app',
      user: 'alice',
      ...target,
    };
  }

  async roundTrip(): Promise<void> {
    for (let i = 0; i < this.turns; i++) await new Promise((r) => setImmediate(r));
  }

  async connect(ctx: ConnectContext): Promise<FakeSqlConnection> {
    await this.roundTrip();
    const conn = new FakeSqlConnection(++this.#ids, this.target, ctx.observer, this);
    this.connections.push(conn);
    return conn;
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {}

  isDisconnect(): boolean {
    return false;
  }

  isRetryable(error: unknown): boolean {
    return error instanceof FakeSqlError && error.code === SERIALIZATION_FAILURE;
  }

  begin(conn: FakeSqlConnection, options: BeginOptions): Promise<void> {
    const text = `BEGIN${options.isolation ? ` ISOLATION LEVEL ${options.isolation.toUpperCase()}` : ''}`;
    return conn.control('BEGIN', text);
  }

  commit(conn: FakeSqlConnection): Promise<void> {
    return conn.control('COMMIT', 'COMMIT', this.commitErrors.shift());
  }

  rollback(conn: FakeSqlConnection): Promise<void> {
    return conn.control('ROLLBACK', 'ROLLBACK');
  }
}
