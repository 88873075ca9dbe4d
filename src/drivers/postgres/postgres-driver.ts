/**
 * `postgres(url | options)`: the cistern Driver for PostgreSQL on postgres.js.
 * Each pooled connection is one postgres.js instance with exactly one socket.
 */

import type { Driver, DriverTarget } from '../../pool/driver.js';
import { maskUrl } from '../../pool/errors.js';
import { type PgConnection, PostgresConnection } from './postgres-connection.js';
import { isDisconnectError, isRetryableError } from './postgres-errors.js';
import { createSql, parsedOptions } from './postgres-js.js';
import {
  type PostgresDriverOptions,
  type ResolvedPostgresConfig,
  resolveConfig,
} from './postgres-options.js';

export interface PostgresDriver extends Driver<PgConnection> {
  /** The target as text, password masked: for messages. */
  readonly display: string;
}

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
  const config = resolveConfig(merged);
  const target = targetOf(config);
  const display = config.url !== undefined ? maskUrl(config.url) : displayOf(target);
  const own = (conn: PgConnection): PostgresConnection => conn as PostgresConnection;
  return {
    name: 'postgres',
    target,
    display,
    connect: (ctx) => PostgresConnection.open(ctx, config, target, display),
    ping: (conn) => own(conn).ping(),
    // reset returns undefined (no promise) when there is nothing to do; the pool handles that synchronously.
    reset: ((conn: PgConnection) => own(conn).reset()) as (conn: PgConnection) => Promise<void>,
    close: (conn) => own(conn).close(),
    isAlive: (conn) => !own(conn).dead,
    setIdle: (conn, idle) => own(conn).setIdle(idle),
    isDisconnect: isDisconnectError,
    isRetryable: isRetryableError,
    begin: (conn, beginOptions) => own(conn).begin(beginOptions),
    commit: (conn) => own(conn).commit(),
    rollback: (conn) => own(conn).rollback(),
  };
}

/** Host, port, database and user as postgres.js itself resolves them (URL, options, PG* variables). */
function targetOf(config: ResolvedPostgresConfig): DriverTarget {
  // Parsing only: an instance opens no socket until its first query.
  const parsed = parsedOptions(createSql(config.url, { ...config.base, max: 1 }));
  return {
    system: 'postgresql',
    host: typeof parsed.path === 'string' && parsed.path !== '' ? parsed.path : parsed.host[0],
    port: parsed.port[0],
    database: parsed.database,
    user: parsed.user,
  };
}

function displayOf(t: DriverTarget): string {
  return `postgres://${t.user === undefined ? '' : `${t.user}@`}${t.host}:${t.port}/${t.database}`;
}
