/**
 * Options of `pg(url | config)`: node-postgres `Client` settings (pg's own names,
 * handed to each `pg.Client` as given) plus a few of cistern's. The settings that
 * decide how many sockets exist and when they close belong to the pool and are
 * rejected by name; so is any key neither pg's Client nor cistern knows.
 */
import { maskUrl, PoolConfigError } from '../../pool/errors.js';
import { loadPg } from './pg-module.js';
import type { PgClientConstructor } from './pg-types.js';

/** pg.Client's settings (see node-postgres `Client` docs), plus cistern's driver options. */
export interface PgDriverOptions {
  /**
   * `postgres://user:password@host:port/database?sslmode=...` (parsed by pg-connection-string).
   * Several hosts in libpq's syntax (`h1:5432,h2:5432`) are walked in order while a
   * connection is being opened, with `target_session_attrs` and `connect_timeout` (seconds,
   * per host) as libpq reads them.
   */
  connectionString?: string;
  host?: string;
  port?: number;
  database?: string;
  user?: string;
  /**
   * A string, or a function (sync or async) cistern calls once for every new connection,
   * before it opens, whatever the server's authentication method (rotating credentials).
   * It gets `{ host, port, user, database }` of the host being opened. Never logged.
   */
  password?:
    | string
    | ((params: {
        host?: string;
        port?: number;
        user?: string;
        database?: string;
      }) => string | Promise<string>);
  /**
   * libpq's `target_session_attrs` (the URL's parameter wins): `any` (default), `read-write`,
   * `read-only`, `primary`, `standby`, `prefer-standby`. Checked on every new connection.
   */
  target_session_attrs?: 'any' | 'read-write' | 'read-only' | 'primary' | 'standby' | 'prefer-standby';
  /**
   * TLS with libpq's meanings (not pg's: pg 8 verifies fully for `require` and `verify-ca`):
   * `true` (verify-full against the system CAs), an sslmode string (`disable`, `allow`,
   * `prefer`, `require`, `verify-ca`, `verify-full`), or `tls.connect` options (`ca`, `cert`,
   * `key`, ...; verified unless `rejectUnauthorized: false`). Wins over `sslmode` /
   * `sslrootcert` / `sslcert` / `sslkey` in the URL, which work the same way.
   */
  ssl?:
    | boolean
    | 'disable'
    | 'allow'
    | 'prefer'
    | 'require'
    | 'verify-ca'
    | 'verify-full'
    | Record<string, unknown>;
  sslnegotiation?: 'postgres' | 'direct';
  /** `application_name` of every connection (visible in pg_stat_activity). Default 'cistern'. */
  application_name?: string;
  fallback_application_name?: string;
  /** Server-side limits sent at startup, in milliseconds. */
  statement_timeout?: number;
  lock_timeout?: number;
  idle_in_transaction_session_timeout?: number;
  /** Client-side limit per query, in milliseconds (pg rejects the query, the connection stays usable). */
  query_timeout?: number;
  client_encoding?: string;
  options?: string;
  keepAlive?: boolean;
  keepAliveInitialDelayMillis?: number;
  binary?: boolean;
  /** pg's type parsers (`{ getTypeParser }`). */
  types?: unknown;
  parseInputDatesAsUTC?: boolean;
  enableChannelBinding?: boolean;
  scramMaxIterations?: number;
  /** pg's pipeline mode for a client's queries. */
  pipeline?: boolean;
  replication?: string | boolean;
  /** A socket factory or stream, as pg's `stream`. */
  stream?: unknown;
  /** The client class: `pg.Client` by default (any class built like it, e.g. from `pg.native`). */
  Client?: PgClientConstructor;
  /**
   * After rolling back, also run `DISCARD ALL` at check-in: drops session settings,
   * temporary tables, advisory locks, LISTENs and prepared statements. One round trip
   * per check-in. Default false.
   */
  discardOnReset?: boolean;
}

/** pg options that belong to the pool (or would share one socket between pooled connections). */
const OWNED: Record<string, string> = {
  connectionTimeoutMillis: "the pool's connectTimeoutMs",
  connect_timeout: "the pool's connectTimeoutMs",
  idleTimeoutMillis: "the pool's idleTimeoutMs",
  max: "the pool's size and maxOverflow",
  min: "the pool's minIdle",
  maxUses: "the pool's maxUses",
  maxLifetimeSeconds: "the pool's maxLifetimeMs",
  allowExitOnIdle: 'the pool (its timers never keep the process alive)',
  connection: 'nothing: one pg Connection cannot be shared by pooled connections',
  Promise: 'nothing: cistern uses native promises',
};

const KNOWN = [
  'connectionString',
  'host',
  'port',
  'database',
  'user',
  'password',
  'target_session_attrs',
  'ssl',
  'sslnegotiation',
  'application_name',
  'fallback_application_name',
  'statement_timeout',
  'lock_timeout',
  'idle_in_transaction_session_timeout',
  'query_timeout',
  'client_encoding',
  'options',
  'keepAlive',
  'keepAliveInitialDelayMillis',
  'binary',
  'types',
  'parseInputDatesAsUTC',
  'enableChannelBinding',
  'scramMaxIterations',
  'pipeline',
  'replication',
  'stream',
  'Client',
  'discardOnReset',
] as const;
const KNOWN_SET = new Set<string>(KNOWN);

/** What a pg driver needs, after validation. */
export interface ResolvedPgConfig {
  /** Handed to `new Client(...)` for every connection (the same object each time, as pg-pool does). */
  clientConfig: Record<string, unknown>;
  Client: PgClientConstructor;
  discardOnReset: boolean;
  /** The target as text, password masked. */
  display?: string;
}

function hide(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: false, writable: true, configurable: true });
}

/** Validate `pg(url | config)` input into a client config. Throws PoolConfigError naming a bad key. */
export function resolvePgOptions(
  input: string | PgDriverOptions | undefined,
  extra?: PgDriverOptions,
): ResolvedPgConfig {
  if (input !== undefined && typeof input !== 'string' && (typeof input !== 'object' || input === null)) {
    throw new PoolConfigError(
      'pg',
      `pg(): expected a connection URL or a pg Client config object, got ${input === null ? 'null' : typeof input}`,
    );
  }
  const merged: Record<string, unknown> =
    typeof input === 'string' ? { ...extra, connectionString: input } : { ...input, ...extra };
  const password = (input as PgDriverOptions | undefined)?.password ?? extra?.password;
  for (const key of Object.keys(merged)) {
    if (Object.hasOwn(OWNED, key)) {
      throw new PoolConfigError(
        key,
        `pg(): the option '${key}' is not supported here: it belongs to ${OWNED[key]}`,
      );
    }
    if (!KNOWN_SET.has(key)) {
      throw new PoolConfigError(
        key,
        `pg(): unknown option '${key}'; allowed: ${KNOWN.join(', ')} (pool options go to createPool)`,
      );
    }
  }
  const cs = merged.connectionString;
  if (cs !== undefined && (typeof cs !== 'string' || cs === '')) {
    throw new PoolConfigError(
      'connectionString',
      'pg(): connectionString must be a non-empty postgres:// URL',
    );
  }
  const Client = (merged.Client as PgClientConstructor | undefined) ?? loadPg().Client;
  if (typeof Client !== 'function') {
    throw new PoolConfigError('Client', 'pg(): Client must be a class like pg.Client');
  }
  const discard = merged.discardOnReset ?? false;
  if (typeof discard !== 'boolean') {
    throw new PoolConfigError(
      'discardOnReset',
      `pg(): discardOnReset must be a boolean, got ${typeof discard}`,
    );
  }
  delete merged.Client;
  delete merged.discardOnReset;
  const hasAppName =
    merged.application_name !== undefined ||
    (typeof cs === 'string' && /[?&]application_name=/.test(cs)) ||
    process.env.PGAPPNAME !== undefined;
  if (!hasAppName) merged.application_name = 'cistern';
  if (password !== undefined) hide(merged, 'password', password);
  return {
    clientConfig: merged,
    Client,
    discardOnReset: discard,
    display: typeof cs === 'string' ? maskUrl(cs) : undefined,
  };
}
