/**
 * The cistern Driver for MariaDB / MySQL on the `mariadb` connector: each pooled
 * connection is one connector `Connection` (`PlainMariadbConnection`, or
 * `ObservedMariadbConnection` with telemetry, which holds all per-connection state).
 * The driver keeps what is the same for every connection (the resolved options, the
 * target) and hands each call to the connection. `mariadb(...)` in index.ts validates
 * the options and constructs this class.
 */
import type { BeginOptions, ConnectContext, Driver, DriverTarget } from '../../pool/driver.js';
import { type MariadbConnection, PlainMariadbConnection } from './mariadb-connection.js';
import { isMariadbDisconnect, isMariadbRetryable } from './mariadb-errors.js';
import type { ResolvedMariadbOptions } from './mariadb-options.js';

/** The connections this driver makes are PlainMariadbConnections; the pool hands them back as such. */
function own(conn: MariadbConnection): PlainMariadbConnection {
  return conn as PlainMariadbConnection;
}

export class MariadbDriver implements Driver<MariadbConnection> {
  readonly name = 'mariadb';
  /** `system` turns to 'mysql' once a connection reached a MySQL server. */
  readonly target: DriverTarget;
  readonly #options: ResolvedMariadbOptions;
  /** Frozen per-system targets shared by all connections' meta. */
  readonly #targets: Record<'mariadb' | 'mysql', DriverTarget>;

  constructor(options: ResolvedMariadbOptions) {
    this.#options = options;
    this.target = { ...options.target };
    this.#targets = {
      mariadb: Object.freeze({ ...options.target, system: 'mariadb' }),
      mysql: Object.freeze({ ...options.target, system: 'mysql' }),
    };
  }

  connect(ctx: ConnectContext): Promise<MariadbConnection> {
    return PlainMariadbConnection.open(ctx, this.#options, this.target, this.#targets);
  }

  ping(conn: MariadbConnection): Promise<boolean> {
    return own(conn).ping();
  }

  setIdle(conn: MariadbConnection, idle: boolean): void {
    own(conn).setIdle(idle);
  }

  isAlive(conn: MariadbConnection): boolean {
    return own(conn).alive;
  }

  // undefined (no promise) when there is nothing to undo: the pool's check-in stays synchronous
  reset(conn: MariadbConnection): Promise<void> | undefined {
    return own(conn).reset();
  }

  close(conn: MariadbConnection): Promise<void> {
    return own(conn).close();
  }

  isDisconnect(error: unknown): boolean {
    return isMariadbDisconnect(error);
  }

  isRetryable(error: unknown): boolean {
    return isMariadbRetryable(error, this.#options.settings.retryLockWaitTimeout);
  }

  begin(conn: MariadbConnection, options: BeginOptions): Promise<void> {
    return own(conn).begin(options);
  }

  commit(conn: MariadbConnection): Promise<void> {
    return own(conn).commit();
  }

  rollback(conn: MariadbConnection): Promise<void> {
    return own(conn).rollback();
  }
}
