/**
 * Options of the PostgreSQL driver, and how they become postgres.js options.
 *
 * cistern owns the settings that decide how many sockets exist and when they
 * close (`max`, `socket`, `onclose`, `idle_timeout`, `max_lifetime`,
 * `connect_timeout`, `backoff`): the pool does that, so they cannot be passed through.
 */
import type { PasswordSource } from '../resolve-password.js';
import { SESSION_ATTRS, type TargetSessionAttrs } from '../target-session.js';
import { type SslParams, type TlsPlan, takeSslParams, tlsPlan } from '../tls-plan.js';
import type { PostgresJsOptions } from './postgres-js.js';

export interface PostgresDriverOptions {
  /** `postgres://user:password@host:port/database?...`; any postgres.js URL parameter works. */
  url?: string;
  host?: string;
  port?: number;
  database?: string;
  user?: string;
  /**
   * A string, or a function (sync or async) called once for every new connection, before it
   * opens, whatever the server's auth method (rotating credentials: RDS IAM, Azure AD tokens).
   * A function that throws or rejects fails that connect with a ConnectError. Never logged.
   */
  password?: PasswordSource;
  /** `application_name` of every connection (visible in pg_stat_activity). Default 'cistern'. */
  applicationName?: string;
  /**
   * Use named prepared statements (postgres.js `prepare`). Default true. Set `false` behind
   * PgBouncer in transaction mode, where a statement prepared on one server connection is
   * unknown on the next.
   */
  prepare?: boolean;
  /**
   * Fetch the array types from `pg_type` on every new connection (postgres.js `fetch_types`).
   * Default true: one extra catalog round trip per new connection (measured 3-5 ms on a busy
   * 2-core machine: connect 8-10 ms instead of 5 ms), which a pool
   * pays rarely. With `false`, array columns come back as their text form (`'{1,2}'`), and
   * JS arrays sent as parameters need an explicit type (`sql.array(values, 23)`).
   */
  fetchTypes?: boolean;
  /**
   * After rolling back, also run `DISCARD ALL` when a connection is checked in: drops session
   * settings (`SET`), temporary tables, advisory locks, LISTENs and prepared statements. Costs
   * one round trip per check-in; combine with `prepare: false` (otherwise postgres.js
   * re-prepares every statement after each discard). Default false.
   */
  discardOnReset?: boolean;
  /**
   * TLS: `true` (verify-full against the system CAs), an sslmode string (`require`,
   * `verify-ca`, `verify-full`, `prefer`, `allow`, `disable`), or `tls.connect` options
   * (`ca`, `cert`, `key`, ...). Wins over `sslmode` / `sslrootcert` / `sslcert` / `sslkey` in the
   * URL. cistern negotiates TLS itself (postgres.js sees the decrypted stream), so reset
   * still needs no round trip when no transaction is open.
   */
  ssl?: PostgresJsOptions['ssl'];
  /** Notices from the server (postgres.js `onnotice`). Default: ignored (postgres.js would console.log them). */
  onnotice?: (notice: Record<string, unknown>) => void;
  /**
   * Any other postgres.js option (`types`, `transform`, `connection`, `keep_alive`, ...).
   * The options cistern owns are rejected.
   */
  postgresOptions?: Record<string, unknown>;
}

/** postgres.js options that the pool owns; passing them in `postgresOptions` throws. */
const OWNED = [
  'max',
  'min',
  'socket',
  'open',
  'onclose',
  'idle_timeout',
  'max_lifetime',
  'connect_timeout',
  'backoff',
];

const KNOWN = new Set([
  'url',
  'host',
  'port',
  'database',
  'user',
  'password',
  'applicationName',
  'prepare',
  'fetchTypes',
  'discardOnReset',
  'ssl',
  'onnotice',
  'postgresOptions',
]);

export interface ResolvedPostgresConfig {
  url: string | undefined;
  /** Options handed to postgres.js for each connection (without the per-connection ones). */
  base: PostgresJsOptions;
  prepare: boolean;
  discardOnReset: boolean;
  /** TLS, when asked for (sslmode / ssl): negotiated by the socket gate. */
  tls: TlsPlan | undefined;
  /**
   * `target_session_attrs` with libpq's meanings, checked by cistern on each host it
   * opens (postgres.js never sees it); undefined for `any`.
   */
  targetSessionAttrs: TargetSessionAttrs | undefined;
  /** The hosts to walk (filled in by the driver from postgres.js's parsing of the URL). */
  hosts: ReadonlyArray<{ host: string; port: number }>;
}

export type { TargetSessionAttrs } from '../target-session.js';

const ignoreNotice = (): void => {};

export function resolveConfig(
  urlOrOptions: string | PostgresDriverOptions | undefined,
): ResolvedPostgresConfig {
  const options: PostgresDriverOptions =
    typeof urlOrOptions === 'string' ? { url: urlOrOptions } : { ...(urlOrOptions ?? {}) };
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) {
      throw new TypeError(
        `postgres(): unknown option '${key}'; pass postgres.js options in 'postgresOptions' (allowed: ${[...KNOWN].join(', ')})`,
      );
    }
  }
  const extra = options.postgresOptions ?? {};
  for (const key of OWNED) {
    if (key in extra) {
      throw new TypeError(`postgres(): the option '${key}' is owned by the cistern pool and cannot be set`);
    }
  }
  const prepare = options.prepare ?? true;
  const base: PostgresJsOptions = {
    ...extra,
    prepare,
    fetch_types: options.fetchTypes ?? true,
    // postgres.js 4 loads types lazily, and from a second connection when the first is busy:
    // load them on the connection itself as it opens, as 3.x does (3.x ignores the key).
    eager_types: extra.eager_types ?? options.fetchTypes ?? true,
    onnotice: options.onnotice ?? ignoreNotice,
    connection: {
      application_name: options.applicationName ?? 'cistern',
      ...((extra.connection as Record<string, unknown> | undefined) ?? {}),
    },
  };
  if (options.host !== undefined) base.host = options.host;
  if (options.port !== undefined) base.port = options.port;
  if (options.database !== undefined) base.database = options.database;
  if (options.user !== undefined) base.username = options.user;
  if (options.password !== undefined) base.password = options.password;
  // target_session_attrs: cistern checks it itself with libpq's meanings (postgres.js 3 and 4
  // decide read-write from default_transaction_read_only alone, and accept a hot standby)
  let attrs = base.target_session_attrs as string | undefined;
  delete base.target_session_attrs;
  let url = options.url;
  if (url !== undefined) {
    const match = /[?&]target_session_attrs=([^&#]*)/i.exec(url);
    if (match !== null) {
      attrs ??= decodeURIComponent(match[1]!);
      url = url.replace(/([?&])target_session_attrs=[^&#]*(&?)/i, (_, lead: string, tail: string) =>
        tail === '&' ? lead : '',
      );
    }
  }
  // TLS: negotiated by cistern's socket gate (../tls-plan.ts); postgres.js sees plain text
  let params: SslParams = {};
  if (url !== undefined) [params, url] = takeSslParams(url);
  params.sslmode ??= process.env.PGSSLMODE || undefined;
  const tls = tlsPlan(params, options.ssl ?? extra.ssl);
  base.ssl = false;
  attrs ??= process.env.PGTARGETSESSIONATTRS || undefined;
  if (attrs !== undefined && !SESSION_ATTRS.includes(attrs)) {
    throw new TypeError(
      `postgres(): target_session_attrs '${attrs}' is not one of ${SESSION_ATTRS.join(', ')}`,
    );
  }
  return {
    hosts: [],
    targetSessionAttrs: attrs === undefined || attrs === 'any' ? undefined : (attrs as TargetSessionAttrs),
    url,
    base,
    prepare,
    discardOnReset: options.discardOnReset ?? false,
    tls,
  };
}
