/**
 * `cistern/knex`: give knex 3.3 a cistern pool as its `connectionPool`.
 *
 * ```ts
 * import knex from 'knex';
 * import { knexPool } from 'cistern/knex';
 * const db = knex({ client: 'mariadb', connectionPool: knexPool(createPool(mariadb(url))) });
 * ```
 */
export { type KnexPool, knexPool } from './knex-pool.js';
export { MariadbCallbackConnection } from './mariadb-callback-connection.js';
