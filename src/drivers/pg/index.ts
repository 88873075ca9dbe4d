/**
 * `cistern/pg`: PostgreSQL on node-postgres (`pg`, an optional peer dependency).
 *
 * ```ts
 * import { createPool } from 'cistern';
 * import { pg } from 'cistern/pg';
 * const pool = createPool(pg(process.env.DATABASE_URL), { size: 10 });
 * const { rows } = await pool.use((c) => c.query('select * from users where id = $1', [id]));
 *
 * // or pg.Pool's own API, for the tools that take a pg.Pool:
 * import { Pool } from 'cistern/pg';
 * const pgPool = new Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
 * ```
 *
 * How it works:
 * - One pooled connection = one `pg.Client`, connected in `connect` (a wrong password,
 *   host or database fails there as a `ConnectError`, password masked).
 * - An 'error' listener stays on every client for its whole life: an idle client's error
 *   marks it dead and the pool closes it; it never crashes the process.
 * - `reset` (check-in) reads pg's transaction status from the last ReadyForQuery
 *   (`client.getTransactionStatus()`, pg >= 8.21; on older pg the driver reads the
 *   ReadyForQuery messages itself): idle means no promise and no round trip; otherwise
 *   ROLLBACK (and `DISCARD ALL` with `discardOnReset`).
 * - TLS: sslmode / sslrootcert / sslcert / sslkey and `ssl` with libpq's meanings (pg-tls.ts).
 * - Telemetry: with an observer, the client's `query` is wrapped once per connection, so
 *   queries sent through `conn.raw` (and by tools through the face) are observed too.
 * - `Pool` (the face) extends the installed `pg.Pool`, so `instanceof pg.Pool` holds.
 */
import { PgDriver } from './pg-driver.js';
import { type PgDriverOptions, resolvePgOptions } from './pg-options.js';

export type { PgConnection } from './pg-connection.js';
export { PgDriver } from './pg-driver.js';
export { isPgDisconnect, isPgRetryable } from './pg-errors.js';
export type { PgDriverOptions } from './pg-options.js';
export { Pool } from './pg-pool.js';
export type {
  PgClient,
  PgClientConstructor,
  PgQueryConfig,
  PgQueryResult,
  PgSubmittable,
} from './pg-types.js';
export type { CisternPgPoolOptions, PgPoolOptions, PoolConfig } from './pool-options.js';

/**
 * A driver for one PostgreSQL server on node-postgres: `pg('postgres://user:pass@host/db')`,
 * `pg({ host, user, password, database, ssl })`, or a URL plus Client options.
 */
export function pg(url: string, options?: PgDriverOptions): PgDriver;
export function pg(options?: PgDriverOptions): PgDriver;
export function pg(input?: string | PgDriverOptions, options?: PgDriverOptions): PgDriver {
  return new PgDriver(resolvePgOptions(input, options));
}
