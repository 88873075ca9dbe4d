/**
 * `knexPool(pool)`: a tarn-shaped pool (what knex 3.3 takes as `connectionPool`) of the
 * raw connections knex's dialect talks to, checked out of a cistern pool.
 *
 * | cistern pool of | knex `client` | raw connection knex gets |
 * |---|---|---|
 * | `cistern/mariadb` | `'mariadb'` | a `mariadb/callback`-shaped view of the cistern connection |
 * | `cistern/pg` | `'pg'` | the connection's `pg.Client` (`raw`) |
 * | `fromFactory(...)` | the dialect of what the factory makes (e.g. `'mysql2'`) | the resource itself |
 *
 * A `cistern/postgres` (postgres.js) pool cannot serve knex: no knex dialect speaks postgres.js.
 */
import type { Pool } from '../pool/pool.js';
import { MariadbCallbackConnection } from './mariadb-callback-connection.js';

/** The tarn Pool methods knex 3.3 calls on an external `connectionPool`, plus tarn's counters. */
export interface KnexPool<R = any> {
  acquire(): { promise: Promise<R>; abort(): void };
  /** Hand a raw connection back; false when it is not one of this pool's. */
  release(raw: R): boolean;
  /** Closes the cistern pool (knex itself never calls this for a pool it was given). */
  destroy(): Promise<void>;
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
  numPendingCreates(): number;
  /** The cistern pool behind this face. */
  readonly pool: Pool<any>;
}

type Kind = 'mariadb' | 'pg' | 'resource';

function kindOf(pool: Pool<any>): Kind {
  const name = pool.driver?.name;
  if (name === 'postgres') {
    throw new TypeError(
      "knexPool: a cistern/postgres (postgres.js) pool cannot serve knex, whose 'pg' dialect needs pg.Client connections: use a cistern/pg pool",
    );
  }
  if (name === 'mariadb') return 'mariadb';
  if (name === 'pg') return 'pg';
  if (name === 'mongodb') throw new TypeError('knexPool: a cistern/mongodb pool cannot serve knex');
  return 'resource';
}

export function knexPool(pool: Pool<any>): KnexPool {
  if (typeof pool !== 'object' || pool === null || typeof pool.acquire !== 'function') {
    throw new TypeError('knexPool(pool): pool must be a cistern pool (createPool(...))');
  }
  const kind = kindOf(pool);
  const isDisconnect = (error: unknown): boolean => pool.driver.isDisconnect(error);
  /** raw connection handed to knex -> cistern connection (pg clients, factory resources) */
  const held = new Map<unknown, unknown>();
  const views = new WeakMap<object, MariadbCallbackConnection>();
  const viewOf = (conn: any): MariadbCallbackConnection => {
    let view = views.get(conn);
    if (view === undefined) {
      view = new MariadbCallbackConnection(conn, isDisconnect);
      views.set(conn, view);
    }
    view.__knex__disposed = undefined;
    view.held = true;
    return view;
  };
  const hand = (conn: any): unknown => {
    if (kind === 'mariadb') return viewOf(conn);
    const raw = kind === 'pg' ? conn.raw : conn;
    held.set(raw, conn);
    return raw;
  };
  const back = (conn: any, disposed: unknown): void => {
    if (disposed !== undefined && disposed !== null && disposed !== false) pool.invalidate(conn, disposed);
    else pool.release(conn);
  };
  return {
    pool,
    acquire() {
      const pending = new PendingAcquire();
      pending.promise = pool.acquire().then((conn) => {
        if (pending.aborted) {
          pool.release(conn);
          throw abortError();
        }
        return hand(conn);
      });
      return pending;
    },
    release(raw) {
      if (raw instanceof MariadbCallbackConnection) {
        if (!raw.held || views.get(raw.conn) !== raw) return false;
        raw.held = false;
        back(raw.conn, raw.__knex__disposed);
        return true;
      }
      const conn = held.get(raw);
      if (conn === undefined) return false;
      held.delete(raw);
      back(conn, (raw as { __knex__disposed?: unknown }).__knex__disposed);
      return true;
    },
    destroy: () => pool.close(),
    numUsed: () => pool.stats().used,
    numFree: () => pool.stats().idle,
    numPendingAcquires: () => pool.stats().pending,
    numPendingCreates: () => pool.stats().connecting,
  };
}

/** tarn's PendingOperation shape: `promise`, and `abort()` — a connection that arrives after it goes straight back. */
class PendingAcquire {
  promise!: Promise<any>;
  aborted = false;
  abort(): void {
    this.aborted = true;
  }
}

function abortError(): Error {
  const error = new Error('knexPool: the acquire was aborted');
  error.name = 'AbortError';
  return error;
}
