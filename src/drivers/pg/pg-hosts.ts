/**
 * Multi-host URLs for `cistern/pg`, in libpq's syntax:
 * `postgres://user@h1:5432,h2:5433,[::1]:5434/db?target_session_attrs=read-write&connect_timeout=2`.
 * pg's own connection-string parser takes one host, so the host list is read here and
 * every attempt gets a one-host URL (the rest of the URL unchanged). The plan also holds
 * `target_session_attrs` (URL, config key or PGTARGETSESSIONATTRS, libpq's order) and
 * libpq's per-host `connect_timeout` (seconds) when the URL gives one.
 */
import { PoolConfigError } from '../../pool/errors.js';
import { SESSION_ATTRS, type TargetSessionAttrs } from '../target-session.js';

/** One host of the list; `port` undefined when the URL names none (pg then decides, as for one host). */
export interface PgHost {
  host: string;
  port: number | undefined;
  /** `host:port` for messages. */
  label: string;
}

/** How a connection is opened: one host as pg would, or a walk over several. */
export interface PgHostPlan {
  /** Empty: the config is used as given (one host, no check). */
  hosts: PgHost[];
  /** undefined for `any` (no session check). */
  want: TargetSessionAttrs | undefined;
  /** libpq's `connect_timeout` in ms, applied to each host; undefined: the pool's budget only. */
  perHostTimeoutMs: number | undefined;
  /** The client config for one host: its one-host URL, without `target_session_attrs`. */
  configFor(host: PgHost | undefined): Record<string, unknown>;
}

const URL_SHAPE = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/is;

/** Read the host list and `target_session_attrs`; throws PoolConfigError on bad values. */
export function pgHostPlan(clientConfig: Record<string, unknown>): PgHostPlan {
  const cs = typeof clientConfig.connectionString === 'string' ? clientConfig.connectionString : undefined;
  const shape = cs === undefined ? null : URL_SHAPE.exec(cs);
  const [, scheme = '', authority = '', tail = ''] = shape ?? [];
  const at = authority.lastIndexOf('@');
  const userinfo = at < 0 ? '' : authority.slice(0, at + 1);
  const hostList = authority.slice(at + 1);
  const multi = shape !== null && hostList.includes(',');
  // pg gives a URL host without a port PGPORT, else 5432 (a `port` option loses to the URL)
  const defaultPort = portOf(process.env.PGPORT) ?? 5432;
  const hosts = multi ? hostList.split(',').map((h) => parseHost(h, defaultPort)) : [];

  const [fromUrl, rest] = takeQueryParam(tail, 'target_session_attrs');
  const fromConfig = clientConfig.target_session_attrs;
  if (fromConfig !== undefined && typeof fromConfig !== 'string') {
    throw new PoolConfigError(
      'target_session_attrs',
      `pg(): target_session_attrs must be a string, one of ${SESSION_ATTRS.join(', ')}`,
    );
  }
  const attrs = fromUrl ?? fromConfig ?? (process.env.PGTARGETSESSIONATTRS || undefined);
  if (attrs !== undefined && !SESSION_ATTRS.includes(attrs)) {
    throw new PoolConfigError(
      'target_session_attrs',
      `pg(): target_session_attrs '${attrs}' is not one of ${SESSION_ATTRS.join(', ')}`,
    );
  }
  const want = attrs === undefined || attrs === 'any' ? undefined : (attrs as TargetSessionAttrs);
  const [timeout] = takeQueryParam(tail, 'connect_timeout');
  const seconds = timeout === undefined ? undefined : Number(timeout);
  if (seconds !== undefined && (timeout === '' || !Number.isFinite(seconds))) {
    throw new PoolConfigError(
      'connect_timeout',
      `pg(): connect_timeout '${timeout}' in the URL must be a number of seconds (0 or less: no per-host limit)`,
    );
  }
  // libpq: applies to each host; values under 2 s count as 2 s; zero or negative means none
  const perHostTimeoutMs = seconds === undefined || seconds <= 0 ? undefined : Math.max(2, seconds) * 1000;

  const configFor = (host: PgHost | undefined): Record<string, unknown> => {
    const copy = copyConfig(clientConfig);
    delete copy.target_session_attrs;
    if (cs !== undefined && shape !== null && (host !== undefined || fromUrl !== undefined)) {
      const where = host === undefined ? hostList : hostText(host);
      copy.connectionString = `${scheme}${userinfo}${where}${rest}`;
    }
    return copy;
  };
  return { hosts, want, perHostTimeoutMs, configFor };
}

/** A shallow copy that keeps `password` non-enumerable (pg-pool and cistern hide it). */
export function copyConfig(config: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...config };
  if (Object.hasOwn(config, 'password')) {
    Object.defineProperty(copy, 'password', {
      value: config.password,
      enumerable: false,
      writable: true,
      configurable: true,
    });
  }
  return copy;
}

function parseHost(text: string, defaultPort: number): PgHost {
  const m = /^(\[[^\]]*\]|[^:[\]]*)(?::(\d*))?$/.exec(text);
  if (m === null || m[1] === '' || m[1] === '[]') {
    throw new PoolConfigError(
      'connectionString',
      `pg(): the host list '${text}' in the URL is not host[:port] (hosts are separated by commas: h1:5432,h2:5432)`,
    );
  }
  const host = m[1]!.startsWith('[') ? m[1]!.slice(1, -1) : decodeURIComponent(m[1]!);
  const port = m[2] === undefined || m[2] === '' ? undefined : Number(m[2]);
  if (port !== undefined && !(port > 0 && port < 65536)) {
    throw new PoolConfigError('connectionString', `pg(): the port of '${text}' in the URL is not 1-65535`);
  }
  const shown = host.includes(':') ? `[${host}]` : host;
  return { host, port, label: `${shown}:${port ?? defaultPort}` };
}

function hostText(h: PgHost): string {
  const name = h.host.includes(':') ? `[${h.host}]` : encodeURIComponent(h.host);
  return h.port === undefined ? name : `${name}:${h.port}`;
}

function portOf(value: unknown): number | undefined {
  const n = Number(value);
  return value !== undefined && value !== '' && Number.isInteger(n) && n > 0 ? n : undefined;
}

/** The value of `name` in the URL's query (decoded), and the URL tail without it. */
function takeQueryParam(tail: string, name: string): [string | undefined, string] {
  const q = tail.indexOf('?');
  if (q < 0) return [undefined, tail];
  const hash = tail.indexOf('#', q);
  const query = tail.slice(q + 1, hash < 0 ? undefined : hash);
  let value: string | undefined;
  const kept = query.split('&').filter((pair) => {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (key.toLowerCase() !== name) return true;
    value ??= decodeURIComponent(eq < 0 ? '' : pair.slice(eq + 1));
    return false;
  });
  const rest =
    tail.slice(0, q) + (kept.length > 0 ? `?${kept.join('&')}` : '') + (hash < 0 ? '' : tail.slice(hash));
  return [value, rest];
}
