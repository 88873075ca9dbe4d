/**
 * The cistern Driver for PostgreSQL on postgres.js: each pooled connection is one
 * postgres.js instance with exactly one socket (`PooledPostgresConnection`, which holds
 * all per-connection state). `postgres(...)` in index.ts validates the options and
 * constructs this class.
 */

import type { BeginOptions, ConnectContext, Driver, DriverTarget } from '../../pool/driver.js';
import { maskUrl } from '../../pool/errors.js';
import { PooledPostgresConnection, type PostgresConnection } from './postgres-connection.js';
import { isPostgresDisconnect, isPostgresRetryable } from './postgres-errors.js';
import { createSql, parsedOptions } from './postgres-js.js';
import type { ResolvedPostgresConfig } from './postgres-options.js';

/** The connections this driver makes are PooledPostgresConnections; the pool hands them back as such. */
function own(conn: PostgresConnection): PooledPostgresConnection {
  return conn as PooledPostgresConnection;
}

export class PostgresDriver implements Driver<PostgresConnection> {
  readonly name = 'postgres';
  readonly target: DriverTarget;
  /** The target as text, password masked: for messages. */
  readonly display: string;
  readonly #config: ResolvedPostgresConfig;

  constructor(resolved: ResolvedPostgresConfig) {
    this.target = targetOf(resolved);
    this.#config = { ...resolved, hosts: hostsOf(resolved) };
    this.display = resolved.url !== undefined ? maskUrl(resolved.url) : displayOf(this.target);
  }

  connect(ctx: ConnectContext): Promise<PostgresConnection> {
    return PooledPostgresConnection.open(ctx, this.#config, this.target, this.display);
  }

  ping(conn: PostgresConnection): Promise<boolean> {
    return own(conn).ping();
  }

  // undefined (no promise) when there is nothing to do: the pool's check-in stays synchronous
  reset(conn: PostgresConnection): Promise<void> {
    return own(conn).reset() as Promise<void>;
  }

  close(conn: PostgresConnection): Promise<void> {
    return own(conn).close();
  }

  isAlive(conn: PostgresConnection): boolean {
    return !own(conn).dead;
  }

  setIdle(conn: PostgresConnection, idle: boolean): void {
    own(conn).setIdle(idle);
  }

  isDisconnect(error: unknown): boolean {
    return isPostgresDisconnect(error);
  }

  isRetryable(error: unknown): boolean {
    return isPostgresRetryable(error);
  }

  begin(conn: PostgresConnection, options: BeginOptions): Promise<void> {
    return own(conn).begin(options);
  }

  commit(conn: PostgresConnection): Promise<void> {
    return own(conn).commit();
  }

  rollback(conn: PostgresConnection): Promise<void> {
    return own(conn).rollback();
  }
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

/** Every host:port of the URL / options, as postgres.js parses them (one entry for a unix socket). */
function hostsOf(config: ResolvedPostgresConfig): Array<{ host: string; port: number }> {
  const parsed = parsedOptions(createSql(config.url, { ...config.base, max: 1 }));
  if (typeof parsed.path === 'string' && parsed.path !== '') return [];
  return parsed.host.map((host, i) => ({ host, port: parsed.port[i] ?? parsed.port[0] ?? 5432 }));
}

function displayOf(t: DriverTarget): string {
  return `postgres://${t.user === undefined ? '' : `${t.user}@`}${t.host}:${t.port}/${t.database}`;
}
