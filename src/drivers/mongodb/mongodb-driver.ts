/**
 * The MongoDB driver: every pooled connection is a MongoClient of its own with
 * exactly one pooled socket (maxPoolSize 1, minPoolSize 1) and one polling
 * monitor, so the cistern pool, not the MongoClient, decides when connections
 * are opened, pinged, recycled and closed.
 */
import type { MongoClientOptions } from 'mongodb';
import type { BeginOptions, ConnectContext, Driver, DriverTarget } from '../../pool/driver.js';
import { type PasswordSource, resolvePassword } from '../resolve-password.js';
import { closeClient } from './close-client.js';
import { observeCommands } from './command-observer.js';
import { isMongoDisconnect, isTransientTransactionError } from './is-disconnect.js';
import { ClientConnection, type MongoConnection } from './mongodb-connection.js';
import { connectError, MongoConnectionLostError } from './mongodb-errors.js';
import { type MongoDriverOptions, splitOptions } from './mongodb-options.js';
import { openClient } from './open-client.js';
import { runTransaction } from './transaction.js';
import { parseMongoUrl, targetOf, wantsDirectConnection } from './url.js';

interface ConnState {
  dead: boolean;
  closing: boolean;
  pingTimeoutMs: number;
  detach: Array<(reason?: unknown) => void>;
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

export class MongoDriver implements Driver<MongoConnection> {
  readonly name = 'mongodb';
  readonly target: DriverTarget;
  readonly #url: string;
  readonly #clientOptions: MongoClientOptions;
  readonly #password: string | undefined;
  /** The `password` option: a string or a function called for every new client. */
  readonly #passwordSource: PasswordSource | undefined;
  readonly #username: string | undefined;
  readonly #pingTimeoutMs: number | undefined;
  readonly #closeTimeoutMs: number;
  /** Timeouts neither the URL nor the options set: the pool's connect timeout fills them in. */
  readonly #timeoutOptions: ReadonlyArray<'serverSelectionTimeoutMS' | 'connectTimeoutMS'>;
  readonly #states = new WeakMap<MongoConnection, ConnState>();

  constructor(url: string, options?: MongoDriverOptions) {
    if (typeof url !== 'string') throw new TypeError('mongodb(url): url must be a connection string');
    const { client, pingTimeoutMs, closeTimeoutMs, password } = splitOptions(options);
    const info = parseMongoUrl(url);
    this.#url = url;
    this.#password = info.password;
    this.#passwordSource = password;
    this.#username = client.auth?.username ?? info.user;
    if (password !== undefined && this.#username === undefined) {
      throw new TypeError('mongodb(): a password option needs a user name, in the URL or in auth.username');
    }
    this.#pingTimeoutMs = pingTimeoutMs;
    this.#closeTimeoutMs = closeTimeoutMs;
    this.target = targetOf(info);
    this.#timeoutOptions = (['serverSelectionTimeoutMS', 'connectTimeoutMS'] as const).filter(
      (name) => client[name] === undefined && !info.params.has(name.toLowerCase()),
    );
    this.#clientOptions = {
      serverMonitoringMode: 'poll',
      ...(wantsDirectConnection(info, client) ? { directConnection: true } : {}),
      ...client,
      maxPoolSize: 1,
      minPoolSize: 1,
    };
  }

  async connect(ctx: ConnectContext): Promise<MongoConnection> {
    const state: ConnState = {
      dead: false,
      closing: false,
      pingTimeoutMs: this.#pingTimeoutMs ?? ctx.timeoutMs,
      detach: [],
    };
    let ready = false;
    let clientOptions = ctx.observer
      ? { ...this.#clientOptions, monitorCommands: true }
      : this.#clientOptions;
    let password = this.#password;
    if (this.#passwordSource !== undefined) {
      // called for this client only, before it connects
      try {
        password = await resolvePassword(this.#passwordSource, ctx);
      } catch (error) {
        throw connectError(this.#url, error, password);
      }
      clientOptions = { ...clientOptions, auth: { username: this.#username, password } };
    }
    const client = await openClient(ctx, {
      url: this.#url,
      clientOptions,
      password,
      closeTimeoutMs: this.#closeTimeoutMs,
      timeoutOptions: this.#timeoutOptions,
      failFast: this.#clientOptions.directConnection === true,
      prepare: (c) => {
        for (const [event, toError] of Object.entries(DEATH_EVENTS)) {
          const listener = (payload: never) => {
            if (!ready || state.dead || state.closing) return;
            state.dead = true;
            ctx.onDead((toError as (e: unknown) => Error)(payload));
          };
          c.on(event as 'connectionClosed', listener);
          state.detach.push(() => c.off(event as 'connectionClosed', listener));
        }
      },
    });
    const conn = new ClientConnection(client);
    if (ctx.observer) {
      state.detach.push(
        observeCommands(client, ctx.observer, { connectionId: ctx.connectionId, target: this.target }),
      );
    }
    this.#states.set(conn, state);
    ready = true;
    return conn;
  }

  async ping(conn: MongoConnection): Promise<boolean> {
    const state = this.#states.get(conn);
    if (state?.dead) return false;
    await conn.raw
      .db('admin')
      .command({ ping: 1 }, { signal: AbortSignal.timeout(state?.pingTimeoutMs ?? 10_000) });
    return true;
  }

  isAlive(conn: MongoConnection): boolean {
    return this.#states.get(conn)?.dead !== true;
  }

  async close(conn: MongoConnection): Promise<void> {
    const state = this.#states.get(conn);
    if (state) {
      if (state.closing) return;
      state.closing = true;
      for (const detach of state.detach) detach();
    }
    await closeClient(conn.raw, this.#closeTimeoutMs);
  }

  isDisconnect(error: unknown): boolean {
    return isMongoDisconnect(error);
  }

  isRetryable(error: unknown): boolean {
    return isTransientTransactionError(error);
  }

  runTransaction<T>(
    conn: MongoConnection,
    options: BeginOptions,
    fn: (tx: MongoConnection) => Promise<T>,
  ): Promise<T> {
    const where = `${this.target.host ?? 'the server'}${this.target.port ? `:${this.target.port}` : ''}`;
    return runTransaction(this.#pooled(conn), options, fn, where);
  }

  #pooled(conn: MongoConnection): ClientConnection {
    if (!(conn instanceof ClientConnection))
      throw new TypeError('not a connection of the cistern mongodb driver');
    return conn;
  }
}
