/** `cistern/postgres`: the PostgreSQL driver, on postgres.js. */
export type { PostgresDriverOptions } from './postgres-config.js';
export type { PgConnection } from './postgres-connection.js';
export { type PostgresDriver, postgres } from './postgres-driver.js';
export { isDisconnectError, isRetryableError } from './postgres-errors.js';
export type { PendingQuery, RowList, Sql } from './postgres-js.js';
