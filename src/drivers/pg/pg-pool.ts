/**
 * `Pool` from `cistern/pg`: node-postgres's `pg.Pool` API over the cistern core,
 * so every tool that takes a pg.Pool (Prisma's adapter-pg, drizzle node-postgres,
 * kysely PostgresDialect, knex, TypeORM, ...) runs on cistern. It extends the
 * user's own `pg.Pool` class, so `pool instanceof pg.Pool` holds (Prisma checks
 * exactly that), but none of pg-pool's machinery runs: lending, waiting,
 * timeouts, recycling and closing are the core's; this class only translates
 * (pg-pool's callbacks, events, counters and error wording). docs/pg.md lists
 * every deliberate difference.
 */
import { EventEmitter } from 'node:events';
import { createPool } from '../../create-pool.js';
import { ConnectError, isPoolError, maskUrl, PoolMisuseError } from '../../pool/errors.js';
import type { Pool as CorePool } from '../../pool/pool.js';
import { callbackQuery, type PgConnection, type PgHooks } from './pg-connection.js';
import { PgDriver } from './pg-driver.js';
import { loadPg, tryLoadPg } from './pg-module.js';
import type { PgCallback, PgClient, PgClientConstructor, PgQueryResult } from './pg-types.js';
import { coreOptions, type PoolConfig } from './pool-options.js';

type ConnectCallback = (
  error: Error | undefined,
  client?: PgClient,
  done?: (error?: Error | boolean) => void,
) => void;

const NOOP = (): void => {};
const DOUBLE_RELEASE = 'Release called on client which has already been released to the pool.';
const ENDED = 'Cannot use a pool after calling end on the pool';
const CONNECT_TIMEOUT = 'Connection terminated due to connection timeout';

// The user's pg.Pool as the base class, or a plain EventEmitter when pg is missing
// (then the constructor throws a clear error; importing still works).
const Base = (tryLoadPg()?.Pool ?? EventEmitter) as unknown as new (
  options?: Record<string, unknown>,
  Client?: PgClientConstructor,
) => EventEmitter;

/** Call a user callback outside our promise chain: its throw is an uncaught exception, as with pg-pool. */
function callback(fn: () => void): void {
  try {
    fn();
  } catch (error) {
    process.nextTick(() => {
      throw error;
    });
  }
}

/** pg-pool's error for what the core reports: pg's own connect error, pg-pool's timeout wording. */
function translate(error: unknown): unknown {
  if (!isPoolError(error)) return error;
  if (error.code === 'POOL_TIMEOUT')
    return new Error('timeout exceeded when trying to connect', { cause: error });
  if (error instanceof ConnectError) {
    const cause = error.cause as { code?: unknown } | undefined;
    if (cause === undefined || cause.code === 'CONNECT_TIMEOUT') {
      return new Error(CONNECT_TIMEOUT, { cause: error });
    }
    return cause;
  }
  return error;
}

export class Pool extends Base {
  /** pg-pool's options with its defaults applied (the password not enumerable). */
  declare readonly options: Record<string, any>;
  /** The client class (pg-pool's `Client`). */
  declare readonly Client: PgClientConstructor;
  /** `end()` was called. */
  ending = false;
  /** `end()` has finished: every client is closed. */
  ended = false;
  readonly #core: CorePool<PgConnection>;
  /** Clients handed out right now, with their pooled connection. */
  readonly #lent = new Map<PgClient, PgConnection>();
  /** Every open client (pg-pool's `_clients`). */
  readonly #clients = new Set<PgClient>();
  readonly #log: (message: string, ...args: unknown[]) => void;
  readonly #exitOnIdle: boolean;
  /** Acquires started and not settled yet: `end()` lets them finish (pg-pool serves clients it is connecting). */
  #inflight = 0;
  #idleWaiters: (() => void)[] = [];
  /** pg-pool's `connectionTimeoutMillis` for one new client (0 = none): its socket is destroyed then. */
  readonly #connectTimeoutMs: number;
  /** The connect timers of clients being connected. */
  readonly #connectTimers = new Map<PgClient, NodeJS.Timeout>();
  /** Clients whose socket the connect timer destroyed (pg-pool's `timeoutHit`). */
  readonly #timedOut = new WeakSet<PgClient>();
  /** The core's lifetime of a connection (ms, 0 = none): `expiredCount`. */
  readonly #lifetimeMs: number;
  /** When the core adopted each open connection (performance.now(), by connectionId); only with a lifetime. */
  readonly #born = new Map<number, number>();

  constructor(config?: PoolConfig, Client?: PgClientConstructor) {
    super(config as Record<string, unknown> | undefined, Client);
    const pg = tryLoadPg();
    if (pg === undefined) loadPg();
    const options = this.options;
    const own = (config ?? {}) as PoolConfig;
    this.#log = typeof options.log === 'function' ? options.log : NOOP;
    this.#exitOnIdle = Boolean(options.allowExitOnIdle);
    const connectTimeout = Number(options.connectionTimeoutMillis);
    this.#connectTimeoutMs = Number.isFinite(connectTimeout) && connectTimeout > 0 ? connectTimeout : 0;
    const ClientClass = (options.Client ?? Client ?? this.Client ?? pg!.Client) as PgClientConstructor;
    const connectionString = options.connectionString;
    const driver = new PgDriver(
      {
        clientConfig: options,
        Client: ClientClass,
        discardOnReset: own.discardOnReset === true,
        display: typeof connectionString === 'string' ? maskUrl(connectionString) : undefined,
      },
      this.#hooks(),
    );
    this.#core = createPool(driver, coreOptions(options, own));
    this.#lifetimeMs = this.#core.options.maxLifetimeMs;
    if (this.#lifetimeMs > 0) {
      // read after the core set the connection's birth, so a client counted expired is past its (jittered) lifetime
      this.#core.on('connect', (e) => this.#born.set(e.connectionId, performance.now()));
      this.#core.on('close', (e) => this.#born.delete(e.connectionId));
    }
    if (options.log !== undefined) {
      this.#core.on('close', (e) => {
        if (e.reason === 'maxUses') this.#log('remove expended client');
        else if (e.reason === 'recycled') this.#log('remove expired client');
        else if (e.reason === 'idle') this.#log('remove idle client');
      });
    }
  }

  #hooks(): PgHooks {
    const options = this.options;
    return {
      afterConnect:
        options.onConnect === undefined && options.verify === undefined
          ? undefined
          : async (client) => {
              if (typeof options.onConnect === 'function') await options.onConnect(client);
              if (typeof options.verify === 'function') {
                await new Promise<void>((resolve, reject) => {
                  options.verify(client, (error?: Error | null) => (error ? reject(error) : resolve()));
                });
              }
            },
      created: (client) => {
        this.#clients.add(client);
        this.#log('connecting new client');
        if (this.#connectTimeoutMs > 0) {
          this.#connectTimers.set(
            client,
            setTimeout(() => this.#connectTimedOut(client), this.#connectTimeoutMs),
          );
        }
      },
      handshaken: (client) => this.#stopConnectTimer(client),
      discarded: (client, error) => {
        this.#stopConnectTimer(client);
        // pg-pool's wording for a connect its timer cut (pg itself says "Connection terminated unexpectedly")
        if (this.#timedOut.has(client) && error instanceof Error) error.message = CONNECT_TIMEOUT;
        this.#clients.delete(client);
        this.#log('client failed to connect');
      },
      connected: (client) => {
        // a new client may go idle without ever being lent (its caller was served by another)
        if (this.#exitOnIdle) client.unref?.();
        this.#log('new client connected');
        this.emit('connect', client);
      },
      error: (client, error) => {
        // pg-pool's idle listener: only an idle client's error is the pool's; the pool removed it already
        if (this.#lent.has(client)) return;
        (error as Error & { client?: PgClient }).client = client;
        this.#log('client error while idle', error);
        if (this.listenerCount('error') > 0) this.emit('error', error, client);
      },
      closed: (client) => {
        this.#clients.delete(client);
        this.#lent.delete(client);
        this.emit('remove', client);
      },
    };
  }

  /**
   * pg-pool's connect timeout: a client not connected within `connectionTimeoutMillis`
   * has its socket destroyed, and pg's own connect callback reports the failure.
   */
  #connectTimedOut(client: PgClient): void {
    this.#connectTimers.delete(client);
    this.#timedOut.add(client);
    this.#log('ending client due to timeout');
    try {
      const stream = client.connection?.stream;
      if (stream !== undefined) stream.destroy();
      else client.end(NOOP);
    } catch {}
  }

  #stopConnectTimer(client: PgClient): void {
    const timer = this.#connectTimers.get(client);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#connectTimers.delete(client);
  }

  /** The cistern core pool behind this face: its events, `stats()`, `use`, `transaction`, telemetry. */
  get cistern(): CorePool<PgConnection> {
    return this.#core;
  }

  // ------------------------------------------------------------------ checkout

  #acquire(): Promise<PgConnection> {
    this.#inflight++;
    return this.#core.acquire().then(this.#acquired, this.#failed);
  }

  readonly #acquired = (conn: PgConnection): PgConnection => {
    if (--this.#inflight === 0 && this.#idleWaiters.length > 0) this.#settleIdle();
    return conn;
  };

  readonly #failed = (error: unknown): never => {
    if (--this.#inflight === 0 && this.#idleWaiters.length > 0) this.#settleIdle();
    throw translate(error);
  };

  /** Hand out a client: pg-pool's 'acquire' event and `client.release`. */
  #lend(conn: PgConnection): PgClient {
    const client = conn.raw;
    this.#lent.set(client, conn);
    if (this.#exitOnIdle) client.ref?.();
    let released = false;
    client.release = (error?: Error | boolean) => {
      if (released) throw new PoolMisuseError(DOUBLE_RELEASE);
      released = true;
      this.#giveBack(conn, error);
    };
    this.emit('acquire', client);
    return client;
  }

  /** pg's semantics: an error (or `true`) destroys the client, anything else returns it. */
  #giveBack(conn: PgConnection, error: Error | boolean | undefined): void {
    const client = conn.raw;
    this.#lent.delete(client);
    this.emit('release', error, client);
    if (this.#exitOnIdle) client.unref?.();
    if (error) {
      this.#core.invalidate(
        conn,
        error instanceof Error ? error : new Error('client released with release(true)'),
      );
    } else this.#core.release(conn);
  }

  /** Check out a client (promise, or pg's `(err, client, done)` callback). Release it with `client.release()`. */
  connect(): Promise<PgClient>;
  connect(cb: ConnectCallback): undefined;
  connect(cb?: ConnectCallback): Promise<PgClient> | undefined {
    if (this.ending) {
      const error = new Error(ENDED);
      if (cb === undefined) return Promise.reject(error);
      cb(error, undefined, NOOP);
      return undefined;
    }
    const lent = this.#acquire().then((conn) => this.#lend(conn));
    if (cb === undefined) return lent;
    lent.then(
      (client) => callback(() => cb(undefined, client, client.release)),
      (error: Error) => callback(() => cb(error, undefined, NOOP)),
    );
    return undefined;
  }

  // ------------------------------------------------------------------ query

  /** Run one query on a pooled client (pg-pool's `pool.query`: promise, or a callback as last argument). */
  query<R = any>(text: unknown, values?: unknown, cb?: PgCallback<PgQueryResult<R>>): any {
    if (typeof text === 'function') {
      const error = new Error('Passing a function as the first parameter to pool.query is not supported');
      const fn = text as PgCallback;
      setImmediate(() => fn(error));
      return undefined;
    }
    let done = cb;
    let params = values;
    if (typeof params === 'function') {
      done = params as PgCallback<PgQueryResult<R>>;
      params = undefined;
    }
    let result: Promise<PgQueryResult<R>>;
    if (this.ending) result = Promise.reject(new Error(ENDED));
    else {
      this.#inflight++;
      result = this.#core
        .acquire()
        .then((conn) => this.#run(this.#acquired(conn), text, params), this.#failed);
    }
    if (typeof done !== 'function') return result;
    const fn = done;
    result.then(
      (res) => callback(() => fn(undefined, res)),
      (error: Error) => callback(() => fn(error)),
    );
    return undefined;
  }

  #run<R>(conn: PgConnection, text: unknown, values: unknown): Promise<PgQueryResult<R>> {
    const client = conn.raw;
    this.#lent.set(client, conn);
    if (this.#exitOnIdle) client.ref?.();
    this.emit('acquire', client);
    this.#log('dispatching query');
    let pending: Promise<PgQueryResult<R>>;
    try {
      if (typeof (text as { submit?: unknown } | null)?.submit === 'function') {
        // a submittable (pg-cursor, pg-query-stream): the client goes back when it ends
        const submitted = client.query(text, values);
        this.#releaseWhenDone(conn, submitted as NodeJS.EventEmitter);
        return Promise.resolve(submitted);
      }
      // pg's callback form, as pg-pool uses (pg's promise form costs more: see callbackQuery)
      pending = callbackQuery(client, text, values);
    } catch (error) {
      this.#giveBack(conn, error as Error);
      return Promise.reject(error);
    }
    return pending.then(
      (res) => {
        this.#log('query dispatched');
        this.#giveBack(conn, undefined);
        return res;
      },
      (error: Error) => {
        // pg-pool destroys the client after any query error
        this.#giveBack(conn, error);
        throw error;
      },
    );
  }

  #releaseWhenDone(conn: PgConnection, submittable: NodeJS.EventEmitter): void {
    let done = false;
    const finish = (error?: Error): void => {
      if (done) return;
      done = true;
      this.#giveBack(conn, error);
    };
    if (typeof submittable?.once !== 'function') {
      finish();
      return;
    }
    submittable.once('end', () => finish());
    submittable.once('close', () => finish());
    submittable.once('error', (error: Error) => finish(error));
  }

  // ------------------------------------------------------------------ end

  /** Close the pool: waits for clients being connected or held, then closes every client. */
  end(): Promise<void>;
  end(cb: (error?: Error) => void): undefined;
  end(cb?: (error?: Error) => void): Promise<void> | undefined {
    this.#log('ending');
    if (this.ending) {
      const error = new Error('Called end on pool more than once');
      if (cb === undefined) return Promise.reject(error);
      cb(error);
      return undefined;
    }
    this.ending = true;
    const ended = this.#waitInflight()
      .then(() => this.#core.close({ timeoutMs: Number.POSITIVE_INFINITY }))
      .then(() => {
        this.ended = true;
      });
    if (cb === undefined) return ended;
    ended.then(
      () => callback(() => cb()),
      (error: Error) => callback(() => cb(error)),
    );
    return undefined;
  }

  #waitInflight(): Promise<void> {
    if (this.#inflight === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  #settleIdle(): void {
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  // ------------------------------------------------------------------ counters

  /** Open clients plus those being connected. */
  get totalCount(): number {
    return this.#core.stats().size;
  }

  get idleCount(): number {
    return this.#core.stats().idle;
  }

  /** Callers waiting for a client to be released (not those a new connection is being opened for). */
  get waitingCount(): number {
    const s = this.#core.stats();
    return Math.max(0, s.pending - s.connecting);
  }

  /**
   * Checked-out clients past their lifetime (`maxLifetimeSeconds`, or cistern's `maxLifetimeMs`):
   * each is closed when it is released, as in pg-pool (an idle one is closed by the sweeper).
   * A client counts from its full lifetime on; the core jitters lifetimes down by up to 2.5 %,
   * so one released in that last 2.5 % is closed without having been counted.
   */
  get expiredCount(): number {
    if (this.#lifetimeMs <= 0 || this.#lent.size === 0) return 0;
    const now = performance.now();
    let expired = 0;
    for (const conn of this.#lent.values()) {
      const born = this.#born.get(conn.connectionId);
      if (born !== undefined && now - born >= this.#lifetimeMs) expired++;
    }
    return expired;
  }

  /** Every client, open or connecting (pg-pool's private `_clients`, read by some tests and tools). */
  get _clients(): PgClient[] {
    return [...this.#clients];
  }

  set _clients(_value: unknown) {
    // pg-pool's constructor assigns it; this face derives it from the clients it knows
  }
}
