/**
 * What `mongodb(url, options)` accepts, its validation, and how it becomes the
 * options of every MongoClient the driver opens.
 */
import type { MongoClientOptions } from 'mongodb';
import type { DriverTarget } from '../../pool/driver.js';
import type { PasswordSource } from '../resolve-password.js';
import { parseMongoUrl, targetOf, wantsDirectConnection } from './url.js';

/**
 * Options of `mongodb(url, options)`: the MongoClient options of every client
 * cistern opens, plus cistern's own few. `maxPoolSize` and `minPoolSize` are
 * always 1 (one physical connection per pooled connection) and cannot be set.
 */
export interface MongoDriverOptions extends Omit<MongoClientOptions, 'maxPoolSize' | 'minPoolSize'> {
  /**
   * Longest wait for the `{ ping: 1 }` round trip of a pre-ping, in milliseconds;
   * a ping that takes longer counts as dead. Default: the pool's `connectTimeoutMs`.
   */
  pingTimeoutMs?: number;
  /**
   * Longest wait for a client to close gracefully (it sends `endSessions` first),
   * in milliseconds; after that its sockets are cut. Default 5000.
   */
  closeTimeoutMs?: number;
  /**
   * A password, or a function (sync or async) called once for every new connection (every
   * MongoClient cistern opens), right before it connects: rotating credentials (Azure AD,
   * AWS-issued tokens, Vault). The user name comes from the URL or `auth.username`. A function
   * that throws or rejects fails that connect with a ConnectError. Never logged.
   */
  password?: PasswordSource;
}

/** Split cistern's own options from the MongoClient's. */
function splitOptions(options: MongoDriverOptions = {}): {
  client: MongoClientOptions;
  pingTimeoutMs: number | undefined;
  closeTimeoutMs: number;
  password: PasswordSource | undefined;
} {
  const { pingTimeoutMs, closeTimeoutMs, password, ...client } = options as MongoDriverOptions & {
    maxPoolSize?: unknown;
    minPoolSize?: unknown;
  };
  for (const [name, value] of [
    ['pingTimeoutMs', pingTimeoutMs],
    ['closeTimeoutMs', closeTimeoutMs],
  ] as const) {
    if (value !== undefined && !(typeof value === 'number' && value > 0)) {
      throw new TypeError(
        `mongodb(): ${name} must be a positive number of milliseconds, got ${String(value)}`,
      );
    }
  }
  for (const fixed of ['maxPoolSize', 'minPoolSize'] as const) {
    if (fixed in client) {
      throw new TypeError(
        `mongodb(): ${fixed} cannot be set: every pooled connection is its own MongoClient with exactly one ` +
          'connection; size the cistern pool instead (size, maxOverflow)',
      );
    }
  }
  if (password !== undefined && typeof password !== 'string' && typeof password !== 'function') {
    throw new TypeError(
      `mongodb(): password must be a string or a function returning one, got ${typeof password}`,
    );
  }
  return {
    client: client as MongoClientOptions,
    pingTimeoutMs,
    closeTimeoutMs: closeTimeoutMs ?? 5000,
    password,
  };
}

/** The validated options: what every connection of one driver is opened with. */
export interface ResolvedMongoOptions {
  url: string;
  target: DriverTarget;
  /** Options of every client, including the fixed pool sizes and the monitoring mode. */
  clientOptions: MongoClientOptions;
  /** The URL's own password (decoded), only to scrub it from error text. */
  urlPassword: string | undefined;
  /** The `password` option: a string or a function called for every new client. */
  passwordSource: PasswordSource | undefined;
  /** The user name for a `password` option (URL or `auth.username`). */
  username: string | undefined;
  /** `pingTimeoutMs`, or undefined for the pool's connect timeout. */
  pingTimeoutMs: number | undefined;
  closeTimeoutMs: number;
  /** Timeouts neither the URL nor the options set: the pool's connect timeout fills them in. */
  timeoutOptions: ReadonlyArray<'serverSelectionTimeoutMS' | 'connectTimeoutMS'>;
  /** A single, direct host: fail at the first failed heartbeat instead of waiting for server selection. */
  failFast: boolean;
}

/** Validate `mongodb(url, options)`; throws a TypeError naming the option and what is allowed. */
export function resolveMongoOptions(url: unknown, options?: MongoDriverOptions): ResolvedMongoOptions {
  if (typeof url !== 'string') throw new TypeError('mongodb(url): url must be a connection string');
  const { client, pingTimeoutMs, closeTimeoutMs, password } = splitOptions(options);
  const info = parseMongoUrl(url);
  const username = client.auth?.username ?? info.user;
  if (password !== undefined && username === undefined) {
    throw new TypeError('mongodb(): a password option needs a user name, in the URL or in auth.username');
  }
  const clientOptions: MongoClientOptions = {
    serverMonitoringMode: 'poll',
    ...(wantsDirectConnection(info, client) ? { directConnection: true } : {}),
    ...client,
    maxPoolSize: 1,
    minPoolSize: 1,
  };
  return {
    url,
    target: targetOf(info),
    clientOptions,
    urlPassword: info.password,
    passwordSource: password,
    username,
    pingTimeoutMs,
    closeTimeoutMs,
    timeoutOptions: (['serverSelectionTimeoutMS', 'connectTimeoutMS'] as const).filter(
      (name) => client[name] === undefined && !info.params.has(name.toLowerCase()),
    ),
    failFast: clientOptions.directConnection === true,
  };
}
