/**
 * The MongoDB driver: every pooled connection is a MongoClient of its own with
 * exactly one pooled socket (maxPoolSize 1, minPoolSize 1) and one polling
 * monitor, so the cistern pool, not the MongoClient, decides when connections
 * are opened, pinged, recycled and closed. Per-connection state lives on the
 * connection (`PooledMongoConnection`); `mongodb(...)` in index.ts validates the
 * options and constructs this class.
 */
import type { BeginOptions, ConnectContext, Driver, DriverTarget } from '../../pool/driver.js';
import { IdleSweeper } from './idle-handles.js';
import { type MongoConnection, PooledMongoConnection } from './mongodb-connection.js';
import { isMongoDisconnect, isMongoRetryable } from './mongodb-errors.js';
import type { ResolvedMongoOptions } from './mongodb-options.js';
import { runTransaction } from './transaction.js';

function own(conn: MongoConnection): PooledMongoConnection {
  if (!(conn instanceof PooledMongoConnection))
    throw new TypeError('not a connection of the cistern mongodb driver');
  return conn;
}

export class MongodbDriver implements Driver<MongoConnection> {
  readonly name = 'mongodb';
  readonly target: DriverTarget;
  readonly #options: ResolvedMongoOptions;
  /** Keeps idle clients unref'd (`allowExitOnIdle`); idle-handles.ts. */
  readonly #sweeper = new IdleSweeper();

  constructor(options: ResolvedMongoOptions) {
    this.#options = options;
    this.target = options.target;
  }

  connect(ctx: ConnectContext): Promise<MongoConnection> {
    return PooledMongoConnection.open(ctx, this.#options, this.target, this.#sweeper);
  }

  ping(conn: MongoConnection): Promise<boolean> {
    return own(conn).ping();
  }

  isAlive(conn: MongoConnection): boolean {
    return !own(conn).dead;
  }

  setIdle(conn: MongoConnection, idle: boolean): void {
    own(conn).setIdle(idle);
  }

  close(conn: MongoConnection): Promise<void> {
    return own(conn).close();
  }

  isDisconnect(error: unknown): boolean {
    return isMongoDisconnect(error);
  }

  isRetryable(error: unknown): boolean {
    return isMongoRetryable(error);
  }

  runTransaction<T>(
    conn: MongoConnection,
    options: BeginOptions,
    fn: (tx: MongoConnection) => Promise<T>,
  ): Promise<T> {
    const where = `${this.target.host ?? 'the server'}${this.target.port ? `:${this.target.port}` : ''}`;
    return runTransaction(own(conn), options, fn, where);
  }
}
