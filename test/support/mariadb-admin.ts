/**
 * Helpers for the MariaDB integration tests: an admin connection (the connector's
 * own, outside any pool) to KILL sessions, create users and read the processlist,
 * and a ConnectContext for calling the driver directly.
 */
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { type Connection, createConnection } from 'mariadb';
import type { ConnectContext, QueryInfo, QueryObserver } from '../../src/pool/driver.js';
import { MARIADB_URL } from './servers.js';

export async function adminConnection(): Promise<Connection> {
  const u = new URL(MARIADB_URL);
  return createConnection({
    host: u.hostname,
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username || 'root'),
    password: u.password ? decodeURIComponent(u.password) : undefined,
    database: u.pathname.slice(1) || undefined,
    connectTimeout: 5000,
  });
}

/** KILL a session; ignores "unknown thread" (it may be gone already). */
export async function kill(admin: Connection, threadId: number): Promise<void> {
  try {
    await admin.query(`KILL ${Number(threadId)}`);
  } catch (error) {
    if ((error as { errno?: number }).errno !== 1094) throw error;
  }
}

/** Server connection ids of a user's sessions. */
export async function sessionsOf(admin: Connection, user: string): Promise<number[]> {
  const rows: { id: bigint | number }[] = await admin.query(
    'SELECT id FROM information_schema.processlist WHERE user = ? ORDER BY id',
    [user],
  );
  return rows.map((r) => Number(r.id));
}

/** Wait (bounded) until `check` holds; returns its last value. Polls, never asserts on elapsed time. */
export async function eventually<T>(
  read: () => Promise<T>,
  check: (value: T) => boolean,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (check(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface TestUser {
  user: string;
  password: string;
  url: string;
  drop(): Promise<void>;
}

/** A throw-away user with a random password and all rights on `test`. */
export async function createTestUser(admin: Connection, prefix = 'cistern'): Promise<TestUser> {
  const user = `${prefix}_${randomBytes(4).toString('hex')}`;
  const password = `pw-${randomBytes(9).toString('base64url')}`;
  for (const host of ['localhost', '127.0.0.1', '%']) {
    await admin.query(`CREATE USER ?@? IDENTIFIED BY ?`, [user, host, password]);
    await admin.query(`GRANT ALL ON test.* TO ?@?`, [user, host]);
  }
  const u = new URL(MARIADB_URL);
  u.username = user;
  u.password = password;
  return {
    user,
    password,
    url: u.toString(),
    async drop() {
      for (const id of await sessionsOf(admin, user)) await kill(admin, id);
      for (const host of ['localhost', '127.0.0.1', '%'])
        await admin.query('DROP USER IF EXISTS ?@?', [user, host]);
    },
  };
}

/** A ConnectContext for calling `driver.connect` directly; records onDead calls. */
export function directContext(
  options: { timeoutMs?: number; signal?: AbortSignal; observer?: QueryObserver } = {},
): ConnectContext & { dead: unknown[] } {
  const dead: unknown[] = [];
  return {
    connectionId: 1,
    timeoutMs: options.timeoutMs ?? 5000,
    signal: options.signal ?? new AbortController().signal,
    observer: options.observer,
    onDead: (error?: unknown) => {
      dead.push(error);
    },
    dead,
  };
}

export interface RecordedQuery {
  info: QueryInfo;
  connectionId: number;
  system: string;
  error?: unknown;
  ended: boolean;
}

/** A QueryObserver recording every start/end. */
export function recordingObserver(): QueryObserver & { queries: RecordedQuery[] } {
  const queries: RecordedQuery[] = [];
  return {
    queries,
    start(info, connection) {
      const q: RecordedQuery = {
        info: { ...info },
        connectionId: connection.connectionId,
        system: connection.target.system,
        ended: false,
      };
      queries.push(q);
      return {
        end(error?: unknown) {
          if (q.ended) throw new Error('scope ended twice');
          q.ended = true;
          q.error = error;
        },
      };
    },
  };
}

/** Everything an error carries, as text: message, stack, own properties and the whole cause chain. */
export function serializeError(error: unknown): string {
  const parts: string[] = [inspect(error, { depth: 20, showHidden: true })];
  const seen = new Set<unknown>();
  let e: unknown = error;
  while (e !== undefined && e !== null && !seen.has(e)) {
    seen.add(e);
    if (e instanceof Error) {
      parts.push(String(e.message), String(e.stack));
      for (const key of Object.getOwnPropertyNames(e)) {
        try {
          parts.push(`${key}=${JSON.stringify((e as unknown as Record<string, unknown>)[key])}`);
        } catch {
          parts.push(`${key}=<unserializable>`);
        }
      }
      e = (e as { cause?: unknown }).cause;
    } else {
      parts.push(JSON.stringify(e) ?? String(e));
      break;
    }
  }
  return parts.join('\n');
}
