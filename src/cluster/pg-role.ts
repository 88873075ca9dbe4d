/**
 * Role probes for `createCluster({ roles })`: ask a connection whether its server
 * takes writes. Duck-typed on a `query(text)` method, so they work for connections of
 * `cistern/postgres` (rows array), `cistern/pg` (`{ rows }`) and `cistern/mariadb`
 * (rows array) without importing any driver.
 */

export type MemberRole = 'primary' | 'replica';

/** Anything with `query(text)` resolving to rows, or to `{ rows }`. */
export interface Queryable {
  query(text: string): Promise<unknown>;
}

function firstValue(result: unknown): unknown {
  const rows = Array.isArray(result) ? result : (result as { rows?: unknown[] } | undefined)?.rows;
  const row = rows?.[0];
  if (row === undefined || row === null || typeof row !== 'object') {
    throw new Error('role probe: the query returned no row');
  }
  return Array.isArray(row) ? row[0] : Object.values(row as Record<string, unknown>)[0];
}

function truthy(value: unknown): boolean {
  return (
    value === true || value === 1 || value === '1' || value === 't' || value === 'true' || value === 'on'
  );
}

/**
 * PostgreSQL: a server in recovery (`pg_is_in_recovery()`: a hot standby) is a
 * replica; a server that is not, but whose `transaction_read_only` is on
 * (`default_transaction_read_only`), is also treated as a replica — what libpq's
 * `target_session_attrs=read-write` checks.
 */
export async function pgRole(conn: Queryable): Promise<MemberRole> {
  const value = firstValue(
    await conn.query(
      "select pg_is_in_recovery() or current_setting('transaction_read_only') = 'on' as read_only",
    ),
  );
  return truthy(value) ? 'replica' : 'primary';
}

/** MariaDB / MySQL: `@@read_only` (set on replicas) means replica. */
export async function mariadbRole(conn: Queryable): Promise<MemberRole> {
  return truthy(firstValue(await conn.query('select @@global.read_only as read_only')))
    ? 'replica'
    : 'primary';
}
