/**
 * `new CisternDialect({ pool })`: one kysely dialect for any cistern SQL pool. The
 * SQL family (adapter, query compiler, introspector) is kysely's own for the system
 * the pool's driver reaches; queries run on connections checked out of the pool.
 */
import {
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  MysqlAdapter,
  MysqlIntrospector,
  MysqlQueryCompiler,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryCompiler,
} from 'kysely';
import { CisternDriver } from './cistern-driver.js';
import { connectionKind, type KyselyPool, sqlFamily } from './connection-kind.js';

export interface CisternDialectConfig {
  /** A cistern pool of postgres.js (`cistern/postgres`), pg (`cistern/pg`) or mariadb (`cistern/mariadb`) connections. */
  pool: KyselyPool;
  /** `db.destroy()` closes the pool too (as kysely's own dialects end theirs). Default true. */
  closePoolOnDestroy?: boolean;
  /** For `cistern/pg` pools: the `pg-cursor` class, needed by `.stream()` (as in kysely's PostgresDialect). */
  cursor?: new (
    text: string,
    values: unknown[],
  ) => unknown;
}

export class CisternDialect implements Dialect {
  readonly #config: CisternDialectConfig;
  readonly #family: 'postgres' | 'mysql';

  constructor(config: CisternDialectConfig) {
    if (typeof config !== 'object' || config === null || typeof config.pool?.acquire !== 'function') {
      throw new TypeError('new CisternDialect({ pool }): pool must be a cistern pool (createPool(...))');
    }
    connectionKind(config.pool); // throws a clear error for a driver it cannot serve
    this.#config = { ...config };
    this.#family = sqlFamily(config.pool);
  }

  createAdapter(): DialectAdapter {
    return this.#family === 'postgres' ? new PostgresAdapter() : new MysqlAdapter();
  }

  createDriver(): Driver {
    return new CisternDriver(this.#config);
  }

  createQueryCompiler(): QueryCompiler {
    return this.#family === 'postgres' ? new PostgresQueryCompiler() : new MysqlQueryCompiler();
  }

  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return this.#family === 'postgres' ? new PostgresIntrospector(db) : new MysqlIntrospector(db);
  }
}
