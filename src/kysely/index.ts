/**
 * `cistern/kysely`: a kysely dialect for any cistern SQL pool.
 *
 * ```ts
 * import { Kysely } from 'kysely';
 * import { CisternDialect } from 'cistern/kysely';
 * const db = new Kysely<DB>({ dialect: new CisternDialect({ pool }) });
 * ```
 *
 * PostgreSQL pools (`cistern/postgres`, `cistern/pg`) get kysely's Postgres adapter,
 * query compiler and introspector; MariaDB / MySQL pools (`cistern/mariadb`) get its
 * MySQL ones. Every query runs on a connection checked out of the pool.
 */
export { CisternDialect, type CisternDialectConfig } from './cistern-dialect.js';
export { CisternDriver } from './cistern-driver.js';
export type { KyselyPool } from './connection-kind.js';
