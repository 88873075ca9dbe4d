/**
 * One pooled MongoDB connection: a MongoClient of its own holding exactly one
 * pooled socket, and all the state the driver keeps per connection (dead, closing,
 * idle, the listeners to detach at close).
 */
import type {
  ClientSession,
  Collection,
  CollectionOptions,
  Db,
  DbOptions,
  Document,
  MongoClient,
} from 'mongodb';
import type { ConnectContext, DriverTarget } from '../../pool/driver.js';
import { resolvePassword } from '../resolve-password.js';
import { closeClient } from './close-client.js';
import { observeCommands } from './command-observer.js';
import type { IdleSweeper } from './idle-handles.js';
import { connectError, MongoConnectionLostError } from './mongodb-errors.js';
import type { ResolvedMongoOptions } from './mongodb-options.js';
import { openClient } from './open-client.js';

/** One pooled MongoDB connection: a MongoClient of its own holding exactly one connection. */
export interface MongoConnection {
  /** The MongoClient behind this pooled connection (maxPoolSize 1). Do not close it yourself. */
  readonly raw: MongoClient;
  /**
   * Inside `pool.transaction`: the session of the transaction. Pass it to every
   * operation that belongs to the transaction (`{ session: tx.session }`).
   * Undefined outside a transaction.
   */
  readonly session: ClientSession | undefined;
  /** A database; the connection string's database (or 'test') by default. */
  db(name?: string, options?: DbOptions): Db;
  /** A collection of the default database. */
  collection<T extends Document = Document>(name: string, options?: CollectionOptions): Collection<T>;
}

/** Client events after which the client's connection must not be handed out again. */
const DEATH_EVENTS = {
  connectionClosed: (e: { reason?: string; error?: unknown }) =>
    new MongoConnectionLostError(`the MongoDB connection closed (${e.reason ?? 'unknown reason'})`, {
      cause: e.error,
    }),
  connectionPoolCleared: () =>
    new MongoConnectionLostError('the MongoClient cleared its connection pool after a network error'),
  serverHeartbeatFailed: (e: { failure?: unknown }) =>
    new MongoConnectionLostError('the MongoDB server stopped answering heartbeats', { cause: e.failure }),
} as const;

/** A client, optionally bound to a session: what a callback is handed. */
export class MongoView implements MongoConnection {
  #defaultDb: Db | undefined;

  constructor(
    readonly raw: MongoClient,
    readonly session: ClientSession | undefined = undefined,
  ) {}

  db(name?: string, options?: DbOptions): Db {
    if (name === undefined && options === undefined) return (this.#defaultDb ??= this.raw.db());
    return this.raw.db(name, options);
  }

  collection<T extends Document = Document>(name: string, options?: CollectionOptions): Collection<T> {
    return this.db().collection<T>(name, options);
  }
}

/** The connection the pool holds: the client plus its per-connection state. */
export class PooledMongoConnection extends MongoView {
  /** The client's connection died (a death event): never hand it out again. */
  dead = false;
  /** `close` started: death events no longer count. */
  closing = false;
  /** In the idle list with `allowExitOnIdle`: the client's handles are unref'd. */
  idle = false;
  readonly #pingTimeoutMs: number;
  readonly #closeTimeoutMs: number;
  /** The driver's sweeper of idle clients (`allowExitOnIdle`). */
  readonly #sweeper: IdleSweeper;
  /** Listeners on the client, removed at close. */
  readonly #detach: Array<(reason?: unknown) => void> = [];

  private constructor(raw: MongoClient, pingTimeoutMs: number, closeTimeoutMs: number, sweeper: IdleSweeper) {
    super(raw);
    this.#pingTimeoutMs = pingTimeoutMs;
    this.#closeTimeoutMs = closeTimeoutMs;
    this.#sweeper = sweeper;
  }

  /**
   * Open one client (see open-client.ts), with the death events wired to `ctx.onDead`
   * and, with an observer, command monitoring wired to it.
   */
  static async open(
    ctx: ConnectContext,
    options: ResolvedMongoOptions,
    target: DriverTarget,
    sweeper: IdleSweeper,
  ): Promise<PooledMongoConnection> {
    let conn: PooledMongoConnection | undefined;
    const detach: Array<(reason?: unknown) => void> = [];
    let clientOptions = ctx.observer
      ? { ...options.clientOptions, monitorCommands: true }
      : options.clientOptions;
    let password = options.urlPassword;
    if (options.passwordSource !== undefined) {
      // called for this client only, before it connects
      try {
        password = await resolvePassword(options.passwordSource, ctx);
      } catch (error) {
        throw connectError(options.url, error, password);
      }
      clientOptions = { ...clientOptions, auth: { username: options.username, password } };
    }
    const client = await openClient(ctx, {
      url: options.url,
      clientOptions,
      password,
      closeTimeoutMs: options.closeTimeoutMs,
      timeoutOptions: options.timeoutOptions,
      failFast: options.failFast,
      prepare: (c) => {
        for (const [event, toError] of Object.entries(DEATH_EVENTS)) {
          const listener = (payload: never) => {
            // before open resolves (conn undefined), a failure is the connect's own
            if (conn === undefined || conn.dead || conn.closing) return;
            conn.dead = true;
            ctx.onDead((toError as (e: unknown) => Error)(payload));
          };
          c.on(event as 'connectionClosed', listener);
          detach.push(() => c.off(event as 'connectionClosed', listener));
        }
      },
    });
    if (ctx.observer) {
      detach.push(observeCommands(client, ctx.observer, { connectionId: ctx.connectionId, target }));
    }
    conn = new PooledMongoConnection(
      client,
      options.pingTimeoutMs ?? ctx.timeoutMs,
      options.closeTimeoutMs,
      sweeper,
    );
    conn.#detach.push(...detach);
    return conn;
  }

  async ping(): Promise<boolean> {
    if (this.dead) return false;
    await this.raw.db('admin').command({ ping: 1 }, { signal: AbortSignal.timeout(this.#pingTimeoutMs) });
    return true;
  }

  /** `allowExitOnIdle`: while idle the client's sockets and timers stop holding the process open. */
  setIdle(idle: boolean): void {
    if (idle === this.idle) return;
    this.idle = idle;
    if (idle) this.#sweeper.add(this.raw);
    else this.#sweeper.delete(this.raw);
  }

  /** Close the client; never rejects, never hangs (close-client.ts). */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    // the pool un-idles a connection before closing it; this covers a close that did not
    this.setIdle(false);
    for (const detach of this.#detach) detach();
    await closeClient(this.raw, this.#closeTimeoutMs);
  }

  /** The same client, bound to a transaction's session. */
  withSession(session: ClientSession): MongoView {
    return new MongoView(this.raw, session);
  }
}
