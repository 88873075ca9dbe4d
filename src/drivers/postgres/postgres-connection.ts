/**
 * One pooled PostgreSQL connection on postgres.js: the public `PostgresConnection` and the
 * class behind it, `PooledPostgresConnection`, which holds all per-connection state. One
 * postgres.js instance with `max: 1`, whose one socket comes from a {@link SocketGate} (so it
 * never reconnects), opened by the static `open` with a first round trip so a bad target fails
 * in `connect`; `ping`, `reset`, `close`, `setIdle`, `begin` / `commit` / `rollback`.
 */

import type {
  BeginOptions,
  ConnectContext,
  ConnectionMeta,
  DriverTarget,
  QueryInfo,
} from '../../pool/driver.js';
import { ConnectError } from '../../pool/errors.js';
import { beginStatement, COMMIT, ROLLBACK } from '../postgres-transaction-sql.js';
import { resolvePassword } from '../resolve-password.js';
import {
  fits,
  mismatchReason,
  SESSION_ATTRIBUTES_SQL as SESSION_ATTRIBUTES,
  type TargetSessionAttrs,
} from '../target-session.js';
import { type ObserveSite, observeQuery } from './observe-query.js';
import { observedSql, sqlNow } from './observed-sql.js';
import { describePostgresError } from './postgres-errors.js';
import {
  createSql,
  fastenQueryClass,
  type ParsedOptions,
  type PendingQuery,
  postgresMajor,
  type QueryObject,
  type RowList,
  type Sql,
} from './postgres-js.js';
import type { ResolvedPostgresConfig } from './postgres-options.js';
import { connectionClosedError, SocketGate } from './socket-gate.js';
import { TransactionStatus } from './transaction-status.js';

/**
 * What `pool.use` / `pool.acquire` hands out (`cistern/postgres` also exports it under its first
 * name, `PgConnection`); the class behind it is {@link PooledPostgresConnection}.
 */
export interface PostgresConnection {
  /**
   * The postgres.js tagged template, bound to this one connection: the instance itself,
   * or (with telemetry on) a view of it that reports each query. Values are always sent
   * as separate parameters. Do not call `sql.begin`, `sql.reserve`, `sql.listen` or
   * `sql.end` on it: use `pool.transaction` and let the pool close connections.
   */
  readonly sql: Sql;
  /** Run `text` with `params` sent separately (`$1`, `$2`, ...); runs at once. */
  query<T extends readonly object[] = Record<string, any>[]>(
    text: string,
    params?: readonly unknown[],
  ): PendingQuery<T>;
  /** The postgres.js instance (max: 1) behind this connection, unobserved. */
  readonly raw: Sql;
  /** Backend process id (`pg_backend_pid()`), fetched at connect. */
  readonly pid: number;
  /** The pool's id for this connection. */
  readonly connectionId: number;
}

const ignore = (): void => {};
/** Seconds postgres.js waits for in-flight queries when the pool closes a connection. */
const CLOSE_GRACE_SECONDS = 2;
const MAX_TIMER_MS = 2 ** 31 - 1;

export class PooledPostgresConnection implements PostgresConnection {
  readonly raw: Sql;
  /** The observing view of `raw` (telemetry on), handed out by `sql` while something records. */
  readonly #observed: Sql | undefined;
  readonly connectionId: number;
  pid = 0;
  /** The socket is gone: never hand this connection out again. */
  dead = false;
  #closing = false;
  #open = false;
  #failHandshake: ((error: unknown) => void) | undefined;
  /** What the handshake saw when target_session_attrs asked (libpq's checks). */
  #attributes = { standby: false, readOnly: false };
  readonly #gate: SocketGate;
  readonly #status: TransactionStatus | undefined;
  /** Query observation, when telemetry is on. */
  readonly #site: ObserveSite | undefined;
  readonly #queryOptions: { prepare: boolean };
  readonly #discardOnReset: boolean;
  readonly #onDead: (error?: unknown) => void;
  readonly #display: string;

  private constructor(
    ctx: ConnectContext,
    config: ResolvedPostgresConfig,
    target: DriverTarget,
    display: string,
    password: string | undefined,
  ) {
    this.connectionId = ctx.connectionId;
    this.#display = display;
    this.#onDead = ctx.onDead;
    const meta: ConnectionMeta = { connectionId: ctx.connectionId, target };
    this.#queryOptions = { prepare: config.prepare };
    this.#discardOnReset = config.discardOnReset;
    // the gate negotiates TLS itself, so it reads the decrypted stream: the status is known either way
    this.#status = new TransactionStatus();
    this.#gate = new SocketGate(display, this.#status, this.#markDead, config.tls);
    const timeoutMs = ctx.timeoutMs;
    this.raw = createSql(config.url, {
      ...config.base,
      password,
      max: 1,
      socket: this.#gate.factory,
      onclose: this.#markDead,
      idle_timeout: null,
      max_lifetime: null,
      backoff: 0,
      connect_timeout:
        Number.isFinite(timeoutMs) && timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS ? timeoutMs / 1000 : null,
    });
    // a multi-host URL: the handshake may walk the host list (never after it served)
    const parsed = this.raw.options as unknown as ParsedOptions & { target_session_attrs?: unknown };
    const hosts = typeof parsed.path === 'string' && parsed.path !== '' ? 1 : Math.max(1, parsed.host.length);
    this.#gate.maxWalk = hosts * (parsed.target_session_attrs === 'prefer-standby' ? 2 : 1);
    // postgres.js 4 reads a plain socket through one reused buffer (see SocketGate.shared)
    this.#gate.shared =
      config.tls === undefined &&
      postgresMajor(this.raw) === 4 &&
      (this.raw.options as unknown as { onread?: unknown }).onread !== false;
    this.#site =
      ctx.observer === undefined ? undefined : { observer: ctx.observer, meta, options: this.raw.options };
    this.#observed = this.#site === undefined ? undefined : observedSql(this.raw, this.#site);
  }

  /**
   * The tagged template: the observing view while an SDK records, else the instance itself
   * (`sqlNow`), so with telemetry on and no SDK registered `c.sql` costs what `raw` does; an
   * SDK registered later is seen from the next `c.sql` read on.
   */
  get sql(): Sql {
    return sqlNow(this.raw, this.#observed, this.#site);
  }

  /**
   * Open a connection: resolves once a first round trip succeeded, rejects with a ConnectError. With `target_session_attrs` (libpq's meanings), walk the hosts in order
   * (twice for prefer-standby: standbys first, then any), checking each opened session with
   * `pg_is_in_recovery()` and `transaction_read_only`; a host that does not fit is closed and
   * the next one tried. Only while opening: a connection that served never changes host.
   */
  static open(
    ctx: ConnectContext,
    config: ResolvedPostgresConfig,
    target: DriverTarget,
    display: string,
  ): Promise<PooledPostgresConnection> {
    const want = config.targetSessionAttrs;
    if (want === undefined) return PooledPostgresConnection.#openOne(ctx, config, target, display, false);
    return PooledPostgresConnection.#openMatching(ctx, config, target, display, want);
  }

  static async #openMatching(
    ctx: ConnectContext,
    config: ResolvedPostgresConfig,
    target: DriverTarget,
    display: string,
    want: TargetSessionAttrs,
  ): Promise<PooledPostgresConnection> {
    const hosts = config.hosts.length > 0 ? config.hosts : [undefined];
    const passes: Array<TargetSessionAttrs | 'any'> = want === 'prefer-standby' ? ['standby', 'any'] : [want];
    const deadline = performance.now() + ctx.timeoutMs;
    const tried: string[] = [];
    let last: unknown;
    for (const pass of passes) {
      for (const h of hosts) {
        const left = deadline - performance.now();
        if (left <= 0 || ctx.signal.aborted) break;
        const one =
          h === undefined ? config : { ...config, base: { ...config.base, host: h.host, port: h.port } };
        const where =
          h === undefined ? display : `${h.host.includes(':') ? `[${h.host}]` : h.host}:${h.port}`;
        let conn: PooledPostgresConnection;
        try {
          const attempt = Number.isFinite(ctx.timeoutMs) ? { ...ctx, timeoutMs: Math.max(1, left) } : ctx;
          conn = await PooledPostgresConnection.#openOne(attempt, one, target, display, true);
        } catch (error) {
          last = error;
          tried.push(`${where}: ${describePostgresError((error as { cause?: unknown }).cause ?? error)}`);
          continue;
        }
        if (fits(pass, conn.#attributes)) return conn;
        tried.push(`${where}: ${mismatchReason(pass, conn.#attributes)}`);
        await conn.close();
      }
    }
    throw new ConnectError(
      `could not connect to ${display}: no host fits target_session_attrs=${want}; hosts tried: ${tried.join('; ') || 'none (connect timeout)'}`,
      { cause: last },
    );
  }

  static #openOne(
    ctx: ConnectContext,
    config: ResolvedPostgresConfig,
    target: DriverTarget,
    display: string,
    check: boolean,
  ): Promise<PooledPostgresConnection> {
    // A password function is called here, once per new connection, whatever the server's
    // auth method: postgres.js gets a string (and would otherwise call the function in a
    // handler nobody awaits, where a rejection crashes the process).
    const password = resolvePassword(config.base.password, ctx);
    if (typeof password !== 'object') {
      return new PooledPostgresConnection(ctx, config, target, display, password).#handshake(ctx, check);
    }
    const started = performance.now();
    return password.then(
      (resolved) => {
        const left = ctx.timeoutMs - (performance.now() - started);
        const rest = Number.isFinite(ctx.timeoutMs) ? { ...ctx, timeoutMs: Math.max(1, left) } : ctx;
        return new PooledPostgresConnection(rest, config, target, display, resolved).#handshake(rest, check);
      },
      (error: unknown) => {
        throw new ConnectError(`could not connect to ${display}: ${describePostgresError(error)}`, {
          cause: error,
        });
      },
    );
  }

  #handshake(ctx: ConnectContext, check: boolean): Promise<PooledPostgresConnection> {
    return new Promise<PooledPostgresConnection>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const cleanup = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        ctx.signal.removeEventListener('abort', onAbort);
      };
      const fail = (error: unknown): void => {
        if (settled) return;
        settled = true;
        cleanup();
        this.#abandon(error);
        const tried = this.#gate.maxWalk > 1 && this.#gate.tried.length > 0;
        const hosts = tried ? `; hosts tried: ${this.#gate.tried.join('; ')}` : '';
        reject(
          new ConnectError(`could not connect to ${this.#display}: ${describePostgresError(error)}${hosts}`, {
            cause: error,
          }),
        );
      };
      this.#failHandshake = fail;
      const onAbort = (): void => fail(ctx.signal.reason ?? abortError());
      if (ctx.signal.aborted) {
        onAbort();
        return;
      }
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      if (Number.isFinite(ctx.timeoutMs) && ctx.timeoutMs <= MAX_TIMER_MS) {
        timer = setTimeout(() => fail(timeoutError(ctx.timeoutMs)), Math.max(0, ctx.timeoutMs));
      }
      const first = this.raw.unsafe(check ? SESSION_ATTRIBUTES : 'select 1') as PendingQuery;
      fastenQueryClass(first);
      first.then((result: RowList) => {
        if (settled) return;
        settled = true;
        cleanup();
        this.pid = result.state?.pid ?? 0;
        if (check) {
          const row = result[0] as { standby?: boolean; read_only?: string } | undefined;
          this.#attributes = { standby: row?.standby === true, readOnly: row?.read_only === 'on' };
        }
        this.#open = true;
        this.#failHandshake = undefined;
        this.#gate.opened();
        resolve(this);
      }, fail);
    });
  }

  query<T extends readonly object[] = Record<string, any>[]>(
    text: string,
    params?: readonly unknown[],
  ): PendingQuery<T> {
    const values = (params ?? []) as unknown[];
    const query = this.raw.unsafe(text, values as never, this.#queryOptions) as unknown as PendingQuery<T>;
    const site = this.#site;
    if (site !== undefined && site.observer.active?.() !== false) {
      observeQuery(query as unknown as QueryObject, site, { text, unparameterized: values.length === 0 });
    }
    return query.execute();
  }

  /** A real round trip; false when the connection is known dead. */
  ping(): Promise<boolean> {
    if (this.dead) return Promise.resolve(false);
    return (this.raw.unsafe('select 1') as PendingQuery).then(() => true);
  }

  /**
   * Roll back an open transaction (and `DISCARD ALL` when configured). Returns
   * undefined — no promise, no round trip — when the last ReadyForQuery said idle.
   */
  reset(): Promise<void> | undefined {
    if (this.dead) return undefined;
    const rollback = this.#status === undefined || this.#status.inTransaction;
    if (!rollback && !this.#discardOnReset) return undefined;
    const first = rollback ? (this.raw.unsafe(ROLLBACK) as PendingQuery) : undefined;
    if (!this.#discardOnReset) return first!.then(ignore);
    const discard = () => (this.raw.unsafe('discard all') as PendingQuery).then(ignore);
    return first === undefined ? discard() : first.then(discard);
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
    const query = this.raw.unsafe(text) as PendingQuery;
    const site = this.#site;
    if (site !== undefined && site.observer.active?.() !== false) {
      const info: QueryInfo = { text, operation };
      observeQuery(query as unknown as QueryObject, site, info);
    }
    return query.then(ignore);
  }

  /** `allowExitOnIdle`: an idle connection's socket stops holding the process open; a busy one holds it again. */
  setIdle(idle: boolean): void {
    const socket = this.#gate.socket;
    if (socket === undefined || socket.destroyed) return;
    if (idle) socket.unref();
    else socket.ref();
  }

  /** Close the physical connection; never rejects. */
  async close(): Promise<void> {
    this.#closing = true;
    try {
      await this.raw.end({ timeout: CLOSE_GRACE_SECONDS });
    } catch {
      // a dead connection has nothing left to close
    }
    this.#gate.destroy();
  }

  /** The socket closed (postgres.js `onclose`, or the socket's own 'close'). */
  readonly #markDead = (): void => {
    if (this.dead) return;
    this.dead = true;
    if (!this.#open) {
      // During the handshake the instance must not be ended (see socket-gate.ts): fail the connect instead.
      this.#failHandshake?.(
        this.#gate.error ?? connectionClosedError(`the connection to ${this.#display} was closed`),
      );
      return;
    }
    // From now on postgres.js rejects every new query at once (CONNECTION_ENDED) and never reconnects.
    this.raw.end({ timeout: 0 }).catch(ignore);
    if (this.#open && !this.#closing) {
      const error =
        this.#gate.error ??
        connectionClosedError(`the connection to ${this.#display} was closed by the server`);
      try {
        this.#onDead(error);
      } catch {
        // the pool's callback must not break the socket's close handling
      }
    }
  };

  /**
   * A failed connect: destroy the socket, but do not end the postgres.js instance — ending it
   * could reject its internal array-types query, an unhandled rejection (see socket-gate.ts).
   * With its socket gone and reconnects left pending, the instance holds nothing and is collected.
   */
  #abandon(error: unknown): void {
    this.dead = true;
    this.#gate.destroy(error);
  }
}

function abortError(): Error {
  const error = new Error('the connect was aborted');
  error.name = 'AbortError';
  return error;
}

function timeoutError(ms: number): Error & { code: string } {
  const error = new Error(`no answer within ${ms} ms (connectTimeoutMs)`) as Error & { code: string };
  error.code = 'CONNECT_TIMEOUT';
  return error;
}
