/**
 * The kysely `Driver` over a cistern pool: `acquireConnection` is `pool.acquire` (with
 * kysely's AbortSignal), `releaseConnection` is `pool.release` (or `invalidate` after a
 * disconnect), and transactions go through the cistern driver's own begin / commit /
 * rollback, so isolation level and access mode are spelled by the driver.
 */
import type { DatabaseConnection, Driver, QueryCompiler, TransactionSettings } from 'kysely';
import type { BeginOptions } from '../pool/driver.js';
import { ISOLATION_LEVELS, isIsolationLevel } from '../pool/isolation.js';
import type { CisternDialectConfig } from './cistern-dialect.js';
import { type ConnectionKind, connectionKind, type KyselyPool } from './connection-kind.js';
import {
  type CisternConnection,
  MariadbKyselyConnection,
  PgKyselyConnection,
  PostgresJsKyselyConnection,
} from './kysely-connection.js';

/** The levels as the error message names them: "read uncommitted, ... or serializable". */
const LEVELS_TEXT = `${ISOLATION_LEVELS.slice(0, -1).join(', ')} or ${ISOLATION_LEVELS[ISOLATION_LEVELS.length - 1]}`;

export class CisternDriver implements Driver {
  readonly #pool: KyselyPool;
  readonly #kind: ConnectionKind;
  readonly #config: CisternDialectConfig;
  readonly #connections = new WeakMap<object, CisternConnection>();

  constructor(config: CisternDialectConfig) {
    this.#config = config;
    this.#pool = config.pool;
    this.#kind = connectionKind(config.pool);
  }

  async init(): Promise<void> {}

  async acquireConnection(options?: { signal?: AbortSignal }): Promise<DatabaseConnection> {
    const signal = options?.signal;
    const conn = await (signal === undefined ? this.#pool.acquire() : this.#pool.acquire({ signal }));
    let wrapper = this.#connections.get(conn);
    if (wrapper === undefined) {
      wrapper = this.#wrap(conn);
      this.#connections.set(conn, wrapper);
    }
    wrapper.failure = undefined;
    return wrapper;
  }

  #wrap(conn: any): CisternConnection {
    const isDisconnect = (error: unknown): boolean => this.#pool.driver.isDisconnect(error);
    if (this.#kind === 'postgres') return new PostgresJsKyselyConnection(conn, isDisconnect);
    if (this.#kind === 'pg') return new PgKyselyConnection(conn, isDisconnect, this.#config.cursor);
    return new MariadbKyselyConnection(conn, isDisconnect);
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const options: BeginOptions = {};
    if (settings.isolationLevel !== undefined) {
      // kysely calls the driver's begin directly, not through pool.transaction (which validates the
      // level): check it here against the core's one table, with the dialect's own message
      if (!isIsolationLevel(settings.isolationLevel)) {
        throw new TypeError(
          `CisternDialect: isolation level '${settings.isolationLevel}' is not supported: use ${LEVELS_TEXT}`,
        );
      }
      options.isolation = settings.isolationLevel;
    }
    if (settings.accessMode === 'read only') options.readOnly = true;
    await this.#control(connection, (driver, conn) => driver.begin!(conn, options));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await this.#control(connection, (driver, conn) => driver.commit!(conn));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await this.#control(connection, (driver, conn) => driver.rollback!(conn));
  }

  async #control(
    connection: DatabaseConnection,
    run: (driver: KyselyPool['driver'], conn: unknown) => Promise<void>,
  ): Promise<void> {
    const driver = this.#pool.driver;
    if (!driver.begin || !driver.commit || !driver.rollback) {
      throw new TypeError(`CisternDialect: the '${driver.name}' driver has no transactions`);
    }
    const wrapper = connection as CisternConnection;
    try {
      await run(driver, wrapper.conn);
    } catch (error) {
      wrapper.noteFailure(error);
      throw error;
    }
  }

  async savepoint(
    connection: DatabaseConnection,
    name: string,
    _compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await (connection as CisternConnection).control(`savepoint ${this.#quote(name)}`);
  }

  async rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    _compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await (connection as CisternConnection).control(`rollback to savepoint ${this.#quote(name)}`);
  }

  async releaseSavepoint(
    connection: DatabaseConnection,
    name: string,
    _compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await (connection as CisternConnection).control(`release savepoint ${this.#quote(name)}`);
  }

  #quote(name: string): string {
    if (typeof name !== 'string' || name === '')
      throw new TypeError('CisternDialect: a savepoint needs a name');
    return this.#kind === 'mariadb' ? `\`${name.replaceAll('`', '``')}\`` : `"${name.replaceAll('"', '""')}"`;
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const wrapper = connection as CisternConnection;
    const failure = wrapper.failure;
    wrapper.failure = undefined;
    if (failure !== undefined) this.#pool.invalidate(wrapper.conn, failure);
    else this.#pool.release(wrapper.conn);
  }

  async destroy(): Promise<void> {
    if (this.#config.closePoolOnDestroy !== false) await this.#pool.close();
  }
}
