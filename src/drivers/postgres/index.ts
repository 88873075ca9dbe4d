/**
 * `cistern/postgres`: the PostgreSQL driver, on postgres.js (an optional peer dependency).
 *
 * ```ts
 * import { createPool } from 'cistern';
 * import { postgres } from 'cistern/postgres';
 * const pool = createPool(postgres(process.env.DATABASE_URL, { applicationName: 'api' }), { size: 10 });
 * const rows = await pool.use((c) => c.sql`select * from users where id = ${id}`);
 * ```
 *
 * How it works, and why:
 * - One pooled connection = one postgres.js instance with `max: 1` and exactly one
 *   socket, opened eagerly by a first round trip in `connect` (a wrong database,
 *   role or port fails there, as a `ConnectError` naming the target, password masked).
 * - No silent reconnect: postgres.js reconnects on the next query after its socket
 *   closed and replays queued queries. Here the socket comes from a factory that
 *   refuses a second one; when the socket closes the connection is marked dead
 *   (`onDead`), postgres.js is ended, and every later query on it rejects at once
 *   with a disconnect code (`CONNECTION_ENDED` / `CONNECTION_CLOSED`).
 * - No process crash from a dying socket: postgres.js's internal array-types query
 *   and password callback run in handlers nobody awaits; the driver keeps their
 *   failures from becoming unhandled rejections (see socket-gate.ts).
 *   `sql.begin()` / `sql.reserve()` are not used (they hang or crash on a dead
 *   socket, postgres.js issues 751, 1208, 1219): use `pool.transaction`.
 * - `reset` (check-in) reads the transaction status PostgreSQL sends in every
 *   ReadyForQuery: when idle it returns without a promise or a round trip; otherwise
 *   it sends ROLLBACK (and `DISCARD ALL` with `discardOnReset`). TLS is negotiated by
 *   the socket gate itself (../tls-plan.ts: sslmode, sslrootcert, sslcert, sslkey, `ssl`),
 *   so the status is read from the decrypted stream under TLS too.
 * - Multi-host URLs: the host list is walked only while a connection opens (a dead
 *   host is skipped; `target_session_attrs` is checked by cistern with libpq's meanings:
 *   `pg_is_in_recovery()`, `transaction_read_only`); a connection that served never
 *   moves to another host. All hosts failing is one ConnectError naming each.
 * - `fetchTypes` (default true): one catalog query per new connection (a few ms) so
 *   arrays work; with `false`, array columns come back as text (`'{1,2}'`) and
 *   array parameters fail to serialize.
 * - `prepare: false` for PgBouncer in transaction mode (no named statements).
 * - Parameters are always sent apart from the text (tagged template, `query(text, params)`).
 * - Telemetry: while an SDK records, `conn.sql` is a Proxy over the instance that reports
 *   each query when it starts running (first `await` / `.execute()` / cursor) with
 *   its `$1..$n` text; otherwise (telemetry off, or no SDK registered) `conn.sql` is the
 *   instance itself (no cost). Read `c.sql` per query rather than keeping it.
 * - `pid` is the backend pid from the startup message (behind PgBouncer: PgBouncer's id).
 * - Not supported on a pooled connection: `sql.listen`, `sql.subscribe` (they open
 *   their own connections), `sql.end` (let the pool close connections).
 */

import { PostgresDriver } from './postgres-driver.js';
import { type PostgresDriverOptions, resolveConfig } from './postgres-options.js';

export { type PoolSql, poolSql } from './pool-sql.js';
/**
 * The pooled connection's first public name, kept so no import breaks. It is the same name as
 * `cistern/pg`'s (node-postgres) connection, a different type: prefer {@link PostgresConnection}.
 */
export type { PostgresConnection, PostgresConnection as PgConnection } from './postgres-connection.js';
export { PostgresDriver } from './postgres-driver.js';
// the public names of the error predicates (inside the driver: isPostgresDisconnect / isPostgresRetryable)
export {
  isPostgresDisconnect as isDisconnectError,
  isPostgresRetryable as isRetryableError,
} from './postgres-errors.js';
export type { PendingQuery, RowList, Sql } from './postgres-js.js';
export type { PostgresDriverOptions } from './postgres-options.js';

/**
 * A driver for PostgreSQL on postgres.js: `postgres('postgres://user:pass@host/db')`,
 * `postgres({ host, user, password, database })`, or a URL plus options overriding it.
 * Invalid options throw here, naming the option and what is allowed.
 */
export function postgres(
  urlOrOptions?: string | PostgresDriverOptions,
  options?: Omit<PostgresDriverOptions, 'url'>,
): PostgresDriver {
  const merged: PostgresDriverOptions | string | undefined =
    options === undefined
      ? urlOrOptions
      : typeof urlOrOptions === 'string'
        ? { ...options, url: urlOrOptions }
        : { ...urlOrOptions, ...options };
  return new PostgresDriver(resolveConfig(merged));
}
