/**
 * What `mariadb(url | options)` accepts, and how it becomes the connector's
 * configuration plus the driver's own settings.
 */
import type { ConnectionConfig } from 'mariadb';
import type { DriverTarget } from '../../pool/driver.js';
import type { PasswordSource } from '../resolve-password.js';
import { parseMariadbUrl } from './url.js';

/** Options of the driver itself, beside the connector's. */
export interface MariadbDriverSettings {
  /**
   * Send COM_RESET_CONNECTION at every check-in: rolls back, drops user variables,
   * temporary tables, prepared statements and session settings. Costs one round trip
   * (plus the connector's re-run of its session set-up) per check-in. Default false:
   * check-in only rolls back a transaction left open, and only when the server's
   * status flags say one is open (no round trip otherwise).
   */
  resetConnection?: boolean;
  /** Longest wait for a ping (pre-ping) before the connection is declared dead. Default 5000. */
  pingTimeoutMs?: number;
  /**
   * Treat a lock wait timeout (1205) as retryable in `pool.transaction({ retries })`.
   * Default false: each attempt would wait `innodb_lock_wait_timeout` (50 s by default)
   * again, so retrying usually multiplies the delay rather than curing it.
   */
  retryLockWaitTimeout?: boolean;
}

/**
 * The connector's connection options (mariadb 3.x `ConnectionConfig`) plus the driver's.
 * `connectTimeout` comes from the pool's `connectTimeoutMs`; `logParam` is always false.
 */
export interface MariadbOptions
  extends Omit<ConnectionConfig, 'connectTimeout' | 'logParam' | 'trace' | 'password'>,
    MariadbDriverSettings {
  /** A `mariadb://` or `mysql://` URL; explicit options override what it says. */
  url?: string;
  /**
   * A string, or a function (sync or async) called once for every new connection, right before
   * it opens (rotating credentials: RDS IAM, Azure AD tokens). A function that throws or rejects
   * fails that connect with a ConnectError. Never logged.
   */
  password?: PasswordSource;
}

export interface ResolvedMariadbOptions {
  /** Connector configuration, without `connectTimeout` (set per connect). */
  config: Record<string, unknown>;
  target: DriverTarget;
  /** The target as a URL, without any password, for error messages. */
  display: string;
  settings: Required<MariadbDriverSettings>;
}

const DRIVER_KEYS = ['resetConnection', 'pingTimeoutMs', 'retryLockWaitTimeout', 'url'] as const;

export function resolveMariadbOptions(
  input: string | MariadbOptions | undefined,
  overrides?: MariadbOptions,
): ResolvedMariadbOptions {
  let fromUrl: Record<string, unknown> = {};
  let explicit: Record<string, unknown> = {};
  let url: string | undefined;
  if (typeof input === 'string') {
    url = input;
    explicit = { ...overrides };
  } else {
    const opts = { ...input, ...overrides };
    if (typeof opts.url === 'string') url = opts.url;
    explicit = opts as Record<string, unknown>;
  }
  if (url !== undefined) fromUrl = parseMariadbUrl(url);
  // until a server answers, a mysql:// URL is the best guess of what it is
  const scheme = url !== undefined && /^mysql:/i.test(url) ? 'mysql' : 'mariadb';
  const config: Record<string, unknown> = { ...fromUrl };
  for (const [key, value] of Object.entries(explicit)) if (value !== undefined) config[key] = value;
  // the URL's password is non-enumerable: carry it over by hand
  const password = explicit.password ?? fromUrl.password;
  if (password !== undefined) {
    Object.defineProperty(config, 'password', { value: password, enumerable: false, writable: true });
  }

  const settings: Required<MariadbDriverSettings> = {
    resetConnection: Boolean(config.resetConnection ?? false),
    pingTimeoutMs: Number(config.pingTimeoutMs ?? 5000),
    retryLockWaitTimeout: Boolean(config.retryLockWaitTimeout ?? false),
  };
  for (const key of DRIVER_KEYS) delete config[key];
  delete config.connectTimeout;
  delete config.trace;
  config.logParam = false;
  config.trace = false;

  const host = typeof config.host === 'string' ? config.host : 'localhost';
  const port = config.port === undefined ? 3306 : Number(config.port);
  const database = typeof config.database === 'string' ? config.database : undefined;
  const user = typeof config.user === 'string' ? config.user : undefined;
  const target: DriverTarget = { system: scheme, host, port };
  if (database !== undefined) target.database = database;
  if (user !== undefined) target.user = user;

  const socket = typeof config.socketPath === 'string' ? config.socketPath : undefined;
  const where = socket === undefined ? `${host.includes(':') ? `[${host}]` : host}:${port}` : '';
  const secret = password === undefined || password === '' ? '' : ':***';
  const who = user === undefined ? '' : `${encodeURIComponent(user)}${secret}@`;
  const display = `${scheme}://${who}${where}/${database ?? ''}${socket === undefined ? '' : `?socketPath=${socket}`}`;
  return { config, target, display, settings };
}
