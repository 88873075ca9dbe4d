import type { MongoClientOptions } from 'mongodb';
import type { PasswordSource } from '../resolve-password.js';

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
export function splitOptions(options: MongoDriverOptions = {}): {
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
