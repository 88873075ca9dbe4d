/**
 * The cistern Driver for PostgreSQL on node-postgres: each pooled connection is exactly
 * one `pg.Client` (`PooledPgConnection`, which holds all per-connection state and is
 * opened by its static `open`). The driver keeps what is the same for every connection
 * (the target, the open plan). `pg(...)` in index.ts validates the options and
 * constructs this class; the pg.Pool face (pg-pool.ts) constructs it with its hooks.
 */
import type { BeginOptions, ConnectContext, Driver, DriverTarget } from '../../pool/driver.js';
import { type PgConnection, type PgHooks, PooledPgConnection } from './pg-connection.js';
import { isPgDisconnect, isPgRetryable } from './pg-errors.js';
import { pgHostPlan } from './pg-hosts.js';
import type { PgOpenPlan } from './pg-open.js';
import type { ResolvedPgConfig } from './pg-options.js';
import { pgTls } from './pg-tls.js';
import type { PgClient } from './pg-types.js';

function own(conn: PgConnection): PooledPgConnection {
  return conn as PooledPgConnection;
}

export class PgDriver implements Driver<PgConnection> {
  readonly name = 'pg';
  readonly target: DriverTarget;
  /** The target as text, password masked: for messages. */
  readonly display: string;
  /** How a connection is opened: hosts to walk, target_session_attrs, password function. */
  readonly #plan: PgOpenPlan;

  /** Throws PoolConfigError for a bad host list, target_session_attrs or sslmode (pg.Pool's face too). */
  constructor(config: ResolvedPgConfig, hooks?: PgHooks) {
    // TLS with libpq's meanings (pg-tls.ts): the URL's sslmode and files become the clients' `ssl`
    const tls = pgTls(config.clientConfig);
    const resolved =
      tls.clientConfig === config.clientConfig ? config : { ...config, clientConfig: tls.clientConfig };
    const hosts = pgHostPlan(resolved.clientConfig);
    // a multi-host URL: the first host stands for the target (pg's parser takes one host)
    this.target = targetOf({ ...resolved, clientConfig: hosts.configFor(hosts.hosts[0]) });
    this.display = config.display ?? displayOf(this.target);
    this.#plan = {
      config: resolved,
      hosts,
      meta: { target: this.target },
      display: this.display,
      hooks,
      plainFallback: tls.plainFallback,
    };
  }

  connect(ctx: ConnectContext): Promise<PgConnection> {
    return PooledPgConnection.open(ctx, this.#plan);
  }

  ping(conn: PgConnection): Promise<boolean> {
    return own(conn).ping();
  }

  // undefined (no promise) when there is nothing to undo: the pool's check-in stays synchronous
  reset(conn: PgConnection): Promise<void> {
    return own(conn).reset() as Promise<void>;
  }

  close(conn: PgConnection): Promise<void> {
    return own(conn).close();
  }

  setIdle(conn: PgConnection, idle: boolean): void {
    own(conn).setIdle(idle);
  }

  isAlive(conn: PgConnection): boolean {
    return own(conn).alive;
  }

  isDisconnect(error: unknown): boolean {
    return isPgDisconnect(error);
  }

  isRetryable(error: unknown): boolean {
    return isPgRetryable(error);
  }

  begin(conn: PgConnection, options: BeginOptions): Promise<void> {
    return own(conn).begin(options);
  }

  commit(conn: PgConnection): Promise<void> {
    return own(conn).commit();
  }

  rollback(conn: PgConnection): Promise<void> {
    return own(conn).rollback();
  }
}

/**
 * Host, port, database and user as pg itself resolves them (URL, options, PG* variables):
 * read from a Client that is constructed and never connected (no socket is opened).
 */
function targetOf(config: ResolvedPgConfig): DriverTarget {
  let probe: Partial<PgClient> = {};
  try {
    probe = new config.Client(config.clientConfig) ?? {};
  } catch {
    // an invalid URL fails again, with its message, at connect
  }
  const c = config.clientConfig;
  const host = probe.host ?? (c.host as string | undefined) ?? 'localhost';
  const port = Number(probe.port ?? c.port ?? 5432);
  return {
    system: 'postgresql',
    host,
    port: Number.isFinite(port) ? port : undefined,
    database: probe.database ?? (c.database as string | undefined),
    user: probe.user ?? (c.user as string | undefined),
  };
}

function displayOf(t: DriverTarget): string {
  return `postgres://${t.user === undefined ? '' : `${t.user}@`}${t.host}:${t.port}/${t.database ?? ''}`;
}
