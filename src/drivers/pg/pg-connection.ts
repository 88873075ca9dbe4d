/**
 * One pooled node-postgres connection: the public `PgConnection` and the class behind
 * it, `PooledPgConnection`. Exactly one `pg.Client`, connected eagerly by the static
 * `open` (through pg-open.ts when there are hosts to walk or a password to resolve;
 * a wrong password, host or database fails there as a ConnectError),
 * with an 'error' listener for its whole life so an idle client's error can never
 * crash the process: the error marks the connection dead and the pool closes it.
 */
import type { BeginOptions, ConnectContext, ConnectionMeta, QueryObserver } from '../../pool/driver.js';
import { ConnectError, maskUrl } from '../../pool/errors.js';
import { beginStatement, COMMIT, ROLLBACK } from '../postgres-transaction-sql.js';
import { observeClient } from './observe-client.js';
import { describePgError, isPgDisconnect } from './pg-errors.js';
import { openPg, type PgOpenPlan } from './pg-open.js';
import type { ResolvedPgConfig } from './pg-options.js';
import type { PgClient, PgQueryConfig, PgQueryResult, PgSubmittable } from './pg-types.js';

/** What `pool.use` / `pool.acquire` hands out. */
export interface PgConnection {
  /** pg's `client.query`: text or config, values sent apart from the text, pg's own result object. */
  query<R = any>(text: string | PgQueryConfig, values?: readonly unknown[]): Promise<PgQueryResult<R>>;
  /** A submittable (pg-cursor, pg-query-stream, pg-copy-streams) runs on this connection and is returned. */
  query<S extends PgSubmittable>(submittable: S): S;
  /** The `pg.Client` behind this connection (its queries are observed too when telemetry is on). */
  readonly raw: PgClient;
  /** Backend process id, from the startup (BackendKeyData): no round trip. */
  readonly pid: number;
  /** The pool's id for this connection. */
  readonly connectionId: number;
}

/** How the pg.Pool face follows its clients; not part of the public driver options. */
export interface PgHooks {
  /** A client was constructed and is about to connect. */
  created?(client: PgClient): void;
  /** pg's `connect` called back (before `afterConnect`): with its error, or undefined when it connected. */
  handshaken?(client: PgClient, error: unknown): void;
  /** A client that never became a pooled connection (failed connect) was dropped; `error` is why. */
  discarded?(client: PgClient, error: unknown): void;
  /** After connect, before the connection is pooled (pg-pool `onConnect`, `verify`); a throw fails the connect. */
  afterConnect?(client: PgClient): Promise<void> | void;
  /** A new client is connected and about to be pooled. */
  connected?(client: PgClient): void;
  /** The client emitted 'error' after it connected (it is dead now). */
  error?(client: PgClient, error: Error): void;
  /** The client's connection has ended after the pool closed it. */
  closed?(client: PgClient): void;
}

type QueryFn = (this: PgClient, ...args: unknown[]) => any;

const noop = (): void => {};
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Longest wait for pg's Terminate to flush before the socket is destroyed. */
const CLOSE_GRACE_MS = 2000;

export class PooledPgConnection implements PgConnection {
  readonly raw: PgClient;
  readonly connectionId: number;
  pid = 0;
  /** The socket is gone (or the client errored): never hand this connection out again. */
  dead = false;
  #open = false;
  #closing = false;
  #closed: Promise<void> | undefined;
  #failHandshake: ((error: unknown) => void) | undefined;
  /** The client's own `query`, unobserved: pings and resets go through it. */
  readonly #query: QueryFn;
  readonly #observer: QueryObserver | undefined;
  readonly #meta: ConnectionMeta;
  readonly #onDead: (error?: unknown) => void;
  readonly #discardOnReset: boolean;
  readonly #hooks: PgHooks | undefined;
  /** The last ReadyForQuery's status, kept only on pg < 8.21 (no `getTransactionStatus`). */
  #txStatus: string | undefined;

  private constructor(
    client: PgClient,
    ctx: ConnectContext,
    meta: ConnectionMeta,
    config: ResolvedPgConfig,
    hooks: PgHooks | undefined,
  ) {
    this.raw = client;
    this.connectionId = ctx.connectionId;
    this.#meta = meta;
    this.#onDead = ctx.onDead;
    this.#discardOnReset = config.discardOnReset;
    this.#hooks = hooks;
    this.#observer = ctx.observer;
    this.#query =
      ctx.observer === undefined ? (client.query as QueryFn) : observeClient(client, ctx.observer, meta);
    client.on('error', this.#onError);
    client.on('end', this.#onEnd);
    // pg before 8.21 has no getTransactionStatus: the status byte of every ReadyForQuery is
    // read off the client's protocol connection instead (pg-protocol has parsed it since 1.0)
    if (typeof client.getTransactionStatus !== 'function' && typeof client.connection?.on === 'function') {
      client.connection.on('readyForQuery', (message: { status?: unknown } | undefined) => {
        this.#txStatus = typeof message?.status === 'string' ? message.status : undefined;
      });
    }
  }

  /**
   * Open one pooled connection; rejects with a ConnectError (password masked). The plain case
   * is one `openOne`; a password function, a multi-host URL or `target_session_attrs` walk
   * the hosts in pg-open.ts, which calls `openOne` for each attempt.
   */
  static open(ctx: ConnectContext, plan: PgOpenPlan): Promise<PooledPgConnection> {
    return openPg(ctx, plan);
  }

  /** Open one client; resolves once pg's connect succeeded (and the face's hooks ran). */
  static openOne(
    ctx: ConnectContext,
    config: ResolvedPgConfig,
    meta: ConnectionMeta,
    display: string,
    hooks?: PgHooks,
  ): Promise<PooledPgConnection> {
    let client: PgClient;
    try {
      client = new config.Client(config.clientConfig);
    } catch (error) {
      return Promise.reject(connectError(display, error));
    }
    if (typeof client?.connect !== 'function' || typeof client.on !== 'function') {
      return Promise.reject(
        connectError(display, new TypeError('the Client class made an object without connect() and on()')),
      );
    }
    const conn = new PooledPgConnection(client, ctx, meta, config, hooks);
    try {
      hooks?.created?.(client);
    } catch {}
    return conn.#handshake(ctx, display);
  }

  #handshake(ctx: ConnectContext, display: string): Promise<PooledPgConnection> {
    return new Promise<PooledPgConnection>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const cleanup = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        ctx.signal.removeEventListener('abort', onAbort);
        this.#failHandshake = undefined;
      };
      const fail = (error: unknown): void => {
        if (settled) return;
        settled = true;
        cleanup();
        this.#abandon(error);
        reject(connectError(display, error));
      };
      const onAbort = (): void => fail(ctx.signal.reason ?? new Error('the connect was aborted'));
      this.#failHandshake = fail;
      if (ctx.signal.aborted) {
        onAbort();
        return;
      }
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      if (Number.isFinite(ctx.timeoutMs) && ctx.timeoutMs <= MAX_TIMER_MS) {
        timer = setTimeout(() => fail(timeoutError(ctx.timeoutMs)), Math.max(0, ctx.timeoutMs));
      }
      const connected = (): void => {
        if (settled) return;
        settled = true;
        cleanup();
        this.pid = typeof this.raw.processID === 'number' ? this.raw.processID : 0;
        this.#open = true;
        // after pg's own listener (attached by connect), so the query has its error first
        this.raw.connection?.on?.('errorMessage', this.#onErrorMessage);
        try {
          this.#hooks?.connected?.(this.raw);
        } catch {
          // a listener's throw must not fail a good connection
        }
        resolve(this);
      };
      const afterConnect = (): void => {
        if (settled) return;
        const hook = this.#hooks?.afterConnect;
        if (hook === undefined) {
          connected();
          return;
        }
        let pending: Promise<void> | void;
        try {
          pending = hook(this.raw);
        } catch (error) {
          fail(error);
          return;
        }
        if (pending !== undefined && typeof (pending as Promise<void>).then === 'function') {
          (pending as Promise<void>).then(connected, fail);
        } else connected();
      };
      try {
        // the callback form: a Client whose connect() was replaced (pg-pool's tests do) still works
        this.raw.connect((error) => {
          try {
            this.#hooks?.handshaken?.(this.raw, error ?? undefined);
          } catch {}
          if (error) fail(error);
          // pg calls back from its ReadyForQuery while it is still parsing the chunk that held it:
          // a FATAL that came in the same chunk (a backend killed right after it answered the
          // startup) is emitted just after this returns. Wait for the end of the chunk, so that
          // FATAL fails the connect (#onError while not open) instead of a dead connection being
          // pooled as new. pg-handshake-faults.test.ts
          else queueMicrotask(afterConnect);
        });
      } catch (error) {
        fail(error);
      }
    });
  }

  // pg overloads: a submittable comes back as is, anything else as a promise of the result
  query(config: unknown, values?: readonly unknown[]): any {
    if (typeof (config as { submit?: unknown } | null)?.submit === 'function')
      return this.raw.query(config, values);
    return callbackQuery(this.raw, config, values).catch(this.#queryFailed);
  }

  /**
   * A query failed. When the error means the connection is gone (57P01, 08xxx, pg's
   * "Connection terminated"), the connection is marked dead now: pg's own 'error' and
   * 'end' arrive only after the query rejected, and a caller that catches the error
   * inside `use` would otherwise have it checked in (and handed out again) first.
   */
  readonly #queryFailed = (error: unknown): never => {
    if (isPgDisconnect(error)) this.#markDead(error);
    return withCallerStack(error);
  };

  /** A real round trip; false when the connection is known dead. */
  ping(): Promise<boolean> {
    if (!this.alive) return Promise.resolve(false);
    return (this.#query.call(this.raw, 'select 1') as Promise<unknown>).then(() => true);
  }

  /** Not dead, not being ended, still queryable (the flags pg-pool reads too). */
  get alive(): boolean {
    const c = this.raw;
    return !this.dead && c._ending !== true && c._queryable !== false;
  }

  /**
   * Roll back an open transaction (and `DISCARD ALL` when configured). Returns undefined
   * (no promise, no round trip) when the last ReadyForQuery said idle ('I'): from pg's
   * `getTransactionStatus()` (pg >= 8.21), else from the ReadyForQuery messages the driver
   * hears itself. A client that cannot tell (pg.native, a custom Client) is always rolled back.
   */
  reset(): Promise<void> | undefined {
    if (this.dead) return undefined;
    const status =
      typeof this.raw.getTransactionStatus === 'function' ? this.raw.getTransactionStatus() : this.#txStatus;
    const rollback = status !== 'I';
    if (!rollback && !this.#discardOnReset) return undefined;
    const run = (text: string): Promise<void> =>
      (this.#query.call(this.raw, text) as Promise<unknown>).then(noop);
    if (!this.#discardOnReset) return run(ROLLBACK);
    return rollback ? run(ROLLBACK).then(() => run('discard all')) : run('discard all');
  }

  begin(options: BeginOptions): Promise<void> {
    return this.#control(beginStatement(options), 'BEGIN');
  }

  commit(): Promise<void> {
    return this.#control(COMMIT, 'COMMIT');
  }

  rollback(): Promise<void> {
    return this.#control(ROLLBACK, 'ROLLBACK');
  }

  #control(text: string, operation: string): Promise<void> {
    const observer = this.#observer;
    if (observer === undefined || observer.active?.() === false) {
      return (this.#query.call(this.raw, text) as Promise<unknown>).then(noop);
    }
    const scope = observer.start({ text, operation }, this.#meta);
    let pending: Promise<unknown>;
    try {
      pending = this.#query.call(this.raw, text) as Promise<unknown>;
    } catch (error) {
      scope.end(error);
      throw error;
    }
    return pending.then(
      () => scope.end(),
      (error: unknown) => {
        scope.end(error);
        throw error;
      },
    );
  }

  /**
   * `allowExitOnIdle`: an idle connection's socket stops holding the process open; a busy
   * one holds it again (what pg's `client.unref()` / `client.ref()` do, on the same socket).
   * The pg.Pool face does not pass `allowExitOnIdle` to the core: it unrefs and refs its
   * clients itself, as pg-pool does, so the two never both act on one pool.
   */
  setIdle(idle: boolean): void {
    const stream = this.raw.connection?.stream;
    if (stream === undefined || stream.destroyed === true) return;
    if (idle) stream.unref?.();
    else stream.ref?.();
  }

  /**
   * Close the client: pg's `end()` is called synchronously (a query still running is cut,
   * as pg does), then we wait for the socket to end, at most CLOSE_GRACE_MS. Never rejects.
   */
  close(): Promise<void> {
    if (this.#closed !== undefined) return this.#closed;
    this.#closing = true;
    const client = this.raw;
    this.#closed = new Promise<void>((resolve) => {
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        try {
          this.#hooks?.closed?.(client);
        } catch {}
        resolve();
      };
      const timer = setTimeout(() => {
        destroyStream(client);
        finish();
      }, CLOSE_GRACE_MS);
      timer.unref();
      try {
        if (typeof client.end === 'function') client.end(() => finish());
        else finish();
      } catch {
        destroyStream(client);
        finish();
      }
    });
    return this.#closed;
  }

  /** A failed connect: end the client and destroy its socket; the client is garbage afterwards. */
  #abandon(error: unknown): void {
    this.dead = true;
    this.#closing = true;
    try {
      this.raw.end?.(noop);
    } catch {}
    destroyStream(this.raw);
    try {
      this.#hooks?.discarded?.(this.raw, error);
    } catch {}
  }

  readonly #onError = (error: Error): void => {
    if (!this.#open) {
      this.#failHandshake?.(error);
      return;
    }
    this.#markDead(error);
    try {
      this.#hooks?.error?.(this.raw, error);
    } catch {}
  };

  /**
   * The backend's ErrorResponse, whoever sent the query (`raw` used directly, the pg.Pool
   * face's clients): one that ends the session (FATAL or PANIC, or a connection-loss
   * SQLSTATE such as 57P01 from `pg_terminate_backend`) marks the connection dead now. pg
   * hands it to the query first and reports the socket's end only later, after a caller
   * that caught the error may already have checked the connection in.
   */
  readonly #onErrorMessage = (message: { severity?: unknown }): void => {
    if (message?.severity === 'FATAL' || message?.severity === 'PANIC' || isPgDisconnect(message)) {
      this.#markDead(message);
    }
  };

  readonly #onEnd = (): void => {
    if (!this.#open) {
      // the socket closed while the handshake (or the face's afterConnect) was still running
      this.#failHandshake?.(new Error('Connection terminated unexpectedly'));
      return;
    }
    if (!this.#closing) {
      const error = new Error('Connection terminated unexpectedly');
      this.#markDead(error);
    }
  };

  #markDead(error: unknown): void {
    if (this.dead) return;
    this.dead = true;
    if (this.#closing) return;
    try {
      this.#onDead(error);
    } catch {
      // the pool's callback must not break pg's event handling
    }
  }
}

/**
 * `client.query` in its callback form, as a promise. pg's own promise form costs far more
 * per query: measured on `select generate_series(1, 100)`, 10 callers, a bare free list of
 * pg clients, the promise form let results survive young-generation GCs (57 scavenges and 6
 * mark-compacts per 20,000 queries against 150 scavenges and none) and used about twice
 * the CPU per query. pg-pool's `pool.query` uses the callback form too.
 */
export function callbackQuery(client: PgClient, config: unknown, values: unknown): Promise<any> {
  return new Promise((resolve, reject) => {
    client.query(config, values, (error: Error | null | undefined, result: unknown) => {
      if (error) reject(error);
      else resolve(result);
    });
  });
}

/** What pg's promise form does to a failed query's error: a stack that leads back to the caller. */
function withCallerStack(error: unknown): never {
  if (error instanceof Error) Error.captureStackTrace(error);
  throw error;
}

function destroyStream(client: PgClient): void {
  try {
    client.connection?.stream?.destroy();
  } catch {}
}

function connectError(display: string, error: unknown): ConnectError {
  return new ConnectError(`could not connect to ${display}: ${maskUrl(describePgError(error))}`, {
    cause: error,
  });
}

function timeoutError(ms: number): Error & { code: string } {
  const error = new Error(`no answer within ${ms} ms (connectTimeoutMs)`) as Error & { code: string };
  error.code = 'CONNECT_TIMEOUT';
  return error;
}
