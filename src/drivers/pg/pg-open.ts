/**
 * Opening one pooled pg connection when there is more to it than one `pg.Client.connect`:
 * a password function (resolved here, once per new connection, as every cistern driver
 * does: src/drivers/resolve-password.ts), a multi-host URL, or `target_session_attrs`.
 *
 * The host list is walked only here, while the connection is being opened (libpq's
 * order: each host in turn; `prefer-standby`: a standby first, then any host). A host
 * that fails, or whose session does not fit, is closed and the next one tried; a
 * connection that served a query never moves. The session is checked from the
 * ParameterStatus messages PostgreSQL 14+ sends at startup (`in_hot_standby`,
 * `default_transaction_read_only`: no round trip), else by libpq's query.
 */
import type { ConnectContext, ConnectionMeta } from '../../pool/driver.js';
import { ConnectError, maskUrl } from '../../pool/errors.js';
import { type PasswordSource, resolvePassword } from '../resolve-password.js';
import {
  fits,
  mismatchReason,
  SESSION_ATTRIBUTES_SQL,
  type SessionAttributes,
  sessionPasses,
  type TargetSessionAttrs,
} from '../target-session.js';
import { type PgHooks, PooledPgConnection } from './pg-connection.js';
import { describePgError } from './pg-errors.js';
import { copyConfig, type PgHost, type PgHostPlan } from './pg-hosts.js';
import type { ResolvedPgConfig } from './pg-options.js';
import type { PgClient } from './pg-types.js';

/** Everything a driver knows before its first connect. */
export interface PgOpenPlan {
  config: ResolvedPgConfig;
  hosts: PgHostPlan;
  meta: Omit<ConnectionMeta, 'connectionId'>;
  display: string;
  hooks: PgHooks | undefined;
  /** sslmode `allow` / `prefer`: a server that answers the SSLRequest with 'N' is used in plain text. */
  plainFallback: boolean;
}

/** Open one connection; rejects with a ConnectError (password masked, never in the text). */
export function openPg(ctx: ConnectContext, plan: PgOpenPlan): Promise<PooledPgConnection> {
  const { config, hosts, display, hooks } = plan;
  const meta = { connectionId: ctx.connectionId, target: plan.meta.target };
  const source = config.clientConfig.password as PasswordSource | undefined;
  // pg drops a `password` option when a connectionString is given (it copies the URL's fields
  // over the config, password included): then cistern hands the password to the client itself
  const lost = source !== undefined && typeof config.clientConfig.connectionString === 'string';
  if (hosts.hosts.length === 0 && hosts.want === undefined && typeof source !== 'function' && !lost) {
    if (plan.plainFallback) return openOrPlain(ctx, config, meta, display, hooks);
    return PooledPgConnection.openOne(ctx, config, meta, display, hooks);
  }
  return walk(ctx, plan, meta, source);
}

async function walk(
  ctx: ConnectContext,
  plan: PgOpenPlan,
  meta: ConnectionMeta,
  source: PasswordSource | undefined,
): Promise<PooledPgConnection> {
  const { config, hosts: hostPlan, display } = plan;
  const multi = hostPlan.hosts.length > 0;
  const hosts: Array<PgHost | undefined> = multi ? hostPlan.hosts : [undefined];
  const want = hostPlan.want;
  const started = performance.now();
  const tried: string[] = [];
  const errors: unknown[] = [];
  for (const pass of want === undefined ? ['any' as const] : sessionPasses(want)) {
    for (const host of hosts) {
      const left = ctx.timeoutMs - Math.floor(performance.now() - started);
      if (left <= 0 || ctx.signal.aborted) break;
      const attemptMs = Math.min(left, hostPlan.perHostTimeoutMs ?? Number.POSITIVE_INFINITY);
      const attemptStart = performance.now();
      const clientConfig = hostPlan.configFor(host);
      let password = source as string | undefined;
      if (typeof source === 'function') {
        const params = passwordParams(host, meta);
        const fn = source as (params: Record<string, unknown>) => string | Promise<string>;
        try {
          password = await resolvePassword(() => fn(params), { signal: ctx.signal, timeoutMs: attemptMs });
        } catch (error) {
          // not a host's fault: no point asking the next host
          throw new ConnectError(`could not connect to ${display}: ${describePgError(error)}`, {
            cause: error,
          });
        }
        Object.defineProperty(clientConfig, 'password', {
          value: password,
          enumerable: false,
          writable: true,
          configurable: true,
        });
      }
      const spent = performance.now() - attemptStart;
      const attempt = { ...ctx, timeoutMs: Math.max(1, attemptMs - spent) };
      const checked = want === undefined ? plan.hooks : checkingHooks(plan.hooks, pass);
      const hooks = password === undefined ? checked : passwordHooks(checked, password);
      try {
        const one = { ...config, clientConfig };
        return await (plan.plainFallback
          ? openOrPlain(attempt, one, meta, display, hooks)
          : PooledPgConnection.openOne(attempt, one, meta, display, hooks));
      } catch (error) {
        if (!multi && want === undefined) throw error;
        const cause = (error as { cause?: unknown }).cause ?? error;
        errors.push(cause);
        const why = cause instanceof SessionMismatch ? cause.reason : maskUrl(describePgError(cause));
        tried.push(`${host?.label ?? hostLabel(meta) ?? display}: ${why}`);
        if (!multi && !(cause instanceof SessionMismatch)) throw error;
      }
    }
  }
  const why = want === undefined ? 'no host answered' : `no host fits target_session_attrs=${want}`;
  const list = tried.length > 0 ? tried.join('; ') : 'none (connect timeout)';
  const message = `could not connect to ${display}: ${why}; hosts tried: ${list}`;
  if (ctx.signal.aborted && tried.length === 0) {
    throw new ConnectError(message, { cause: ctx.signal.reason });
  }
  // pg.Pool users (the face) see the cause: an AggregateError with every host's error and the same text
  throw new ConnectError(message, { cause: new AggregateError(errors, message) });
}

/** `host:port` of a one-host target, for the "hosts tried" list (undefined for a unix socket). */
function hostLabel(meta: ConnectionMeta): string | undefined {
  const { host, port } = meta.target;
  if (host === undefined || host.startsWith('/') || port === undefined) return undefined;
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** pg's error when the server answers the SSLRequest with 'N' (lib/connection.js). */
const NO_TLS = 'The server does not support SSL connections';

/**
 * sslmode `allow` / `prefer` (libpq): TLS first; a server that does not accept TLS is
 * connected to again in plain text, within what is left of the connect timeout.
 */
async function openOrPlain(
  ctx: ConnectContext,
  config: ResolvedPgConfig,
  meta: ConnectionMeta,
  display: string,
  hooks: PgHooks | undefined,
): Promise<PooledPgConnection> {
  const started = performance.now();
  try {
    return await PooledPgConnection.openOne(ctx, config, meta, display, hooks);
  } catch (error) {
    const left = ctx.timeoutMs - Math.floor(performance.now() - started);
    const cause = (error as { cause?: unknown }).cause;
    if (!(cause instanceof Error) || cause.message !== NO_TLS || left <= 0 || ctx.signal.aborted) throw error;
    const plain = { ...config, clientConfig: { ...copyConfig(config.clientConfig), ssl: false } };
    return PooledPgConnection.openOne({ ...ctx, timeoutMs: left }, plain, meta, display, hooks);
  }
}

/**
 * Hand the password to a new client before it connects, unless its URL gave one (pg's own
 * precedence: the URL wins). pg's `_getPassword` does the same with a function's value.
 */
function passwordHooks(hooks: PgHooks | undefined, password: string): PgHooks {
  return {
    ...hooks,
    created(client) {
      const c = client as PgClient & { password?: unknown; connectionParameters?: { password?: unknown } };
      if (typeof c.password !== 'string') {
        c.password = password;
        if (c.connectionParameters !== undefined) c.connectionParameters.password = password;
      }
      hooks?.created?.(client);
    },
  };
}

/** pg calls a password function with its ConnectionParameters; the host being tried stands in for them. */
function passwordParams(host: PgHost | undefined, meta: ConnectionMeta): Record<string, unknown> {
  const t = meta.target;
  return { host: host?.host ?? t.host, port: host?.port ?? t.port, user: t.user, database: t.database };
}

/** A session that does not fit target_session_attrs (the client is closed and the next host tried). */
export class SessionMismatch extends Error {
  readonly code = 'TARGET_SESSION_MISMATCH';
  readonly attributes: SessionAttributes;
  /** e.g. `a hot standby, not read-write` */
  readonly reason: string;
  constructor(want: TargetSessionAttrs | 'any', attributes: SessionAttributes) {
    const reason = mismatchReason(want, attributes);
    super(`the session is ${reason} (target_session_attrs)`);
    this.name = 'SessionMismatch';
    this.attributes = attributes;
    this.reason = reason;
  }
}

type Listener = (message: { parameterName?: string; parameterValue?: string }) => void;
interface ParamSource {
  on(event: 'parameterStatus', listener: Listener): unknown;
  removeListener?(event: 'parameterStatus', listener: Listener): unknown;
}

/** The face's hooks, plus the session check before the connection is pooled (a mismatch fails that attempt). */
function checkingHooks(hooks: PgHooks | undefined, want: TargetSessionAttrs | 'any'): PgHooks {
  const reported = new Map<string, string>();
  const listener: Listener = (m) => {
    if (m.parameterName !== undefined && m.parameterValue !== undefined) {
      reported.set(m.parameterName, m.parameterValue);
    }
  };
  let source: ParamSource | undefined;
  return {
    ...hooks,
    created(client) {
      const connection = client.connection as Partial<ParamSource> | undefined;
      if (typeof connection?.on === 'function') {
        source = connection as ParamSource;
        source.on('parameterStatus', listener);
      }
      hooks?.created?.(client);
    },
    async afterConnect(client) {
      source?.removeListener?.('parameterStatus', listener);
      const attributes = await sessionAttributes(client, reported);
      if (!fits(want, attributes)) throw new SessionMismatch(want, attributes);
      await hooks?.afterConnect?.(client);
    },
  };
}

/** From PostgreSQL 14's startup ParameterStatus when both were reported, else libpq's query. */
async function sessionAttributes(
  client: PgClient,
  reported: Map<string, string>,
): Promise<SessionAttributes> {
  const standby = reported.get('in_hot_standby');
  const readOnly = reported.get('default_transaction_read_only');
  if (standby !== undefined && readOnly !== undefined) {
    return { standby: standby === 'on', readOnly: standby === 'on' || readOnly === 'on' };
  }
  // the client's own query method, not the observed one: the check is not the user's query
  const query = (Object.getPrototypeOf(client) as PgClient | null)?.query ?? client.query;
  const result = (await query.call(client, SESSION_ATTRIBUTES_SQL)) as {
    rows: Array<{ standby?: unknown; read_only?: unknown }>;
  };
  const row = result.rows[0];
  return {
    standby: row?.standby === true || row?.standby === 't',
    readOnly: row?.read_only === 'on',
  };
}
