/**
 * The MariaDB / MySQL driver: one connector `Connection` per pooled connection.
 */
import type {
  BeginOptions,
  ConnectContext,
  ConnectionMeta,
  Driver,
  DriverTarget,
} from '../../pool/driver.js';
import {
  type MariadbConnection,
  ObservedMariadbConnection,
  PlainMariadbConnection,
} from './mariadb-connection.js';
import { isMariadbDisconnect, isMariadbRetryable } from './mariadb-errors.js';
import type { ResolvedMariadbOptions } from './mariadb-options.js';
import { explainTlsFailure } from './mariadb-tls.js';
import { openConnection } from './open-connection.js';
import { beginStatements, COMMIT, ROLLBACK } from './transaction-sql.js';

/** Longest wait for COM_QUIT to be written before the socket is destroyed. */
const CLOSE_GRACE_MS = 1000;

function closedWhileBusy(): Error {
  const error = new Error('the pool closed this connection while a command was running') as Error & {
    code: string;
  };
  error.code = 'ERR_SOCKET_CLOSED';
  return error;
}

function impl(conn: MariadbConnection): PlainMariadbConnection {
  return conn as PlainMariadbConnection;
}

export class MariadbDriver implements Driver<MariadbConnection> {
  readonly name = 'mariadb';
  /** `system` turns to 'mysql' once a connection reached a MySQL server. */
  readonly target: DriverTarget;
  readonly #options: ResolvedMariadbOptions;
  /** Frozen per-system targets shared by all connections' meta. */
  readonly #targets: Record<'mariadb' | 'mysql', DriverTarget>;

  constructor(options: ResolvedMariadbOptions) {
    this.#options = options;
    this.target = { ...options.target };
    this.#targets = {
      mariadb: Object.freeze({ ...options.target, system: 'mariadb' }),
      mysql: Object.freeze({ ...options.target, system: 'mysql' }),
    };
  }

  async connect(ctx: ConnectContext): Promise<MariadbConnection> {
    const { raw, socket } = await openConnection({
      config: this.#options.config,
      display: this.#options.display,
      timeoutMs: ctx.timeoutMs,
      signal: ctx.signal,
    }).catch((error: unknown) => {
      const o = this.#options;
      throw explainTlsFailure(error, o.display, o.target.host ?? 'localhost', o.config.ssl);
    });
    const system = raw.info?.isMariaDB() === false ? 'mysql' : 'mariadb';
    this.target.system = system;
    const meta: ConnectionMeta = { connectionId: ctx.connectionId, target: this.#targets[system] };
    const conn =
      ctx.observer === undefined
        ? new PlainMariadbConnection(raw, meta, socket)
        : new ObservedMariadbConnection(raw, meta, socket, ctx.observer);
    // Without an 'error' listener the connector throws an uncaught exception when the
    // server closes an idle connection (KILL, wait_timeout, shutdown).
    raw.on('error', (error: unknown) => {
      conn.dead = true;
      ctx.onDead(error);
    });
    return conn;
  }

  async ping(conn: MariadbConnection): Promise<boolean> {
    const raw = conn.raw;
    if (impl(conn).dead || !raw.isValid()) return false;
    await (raw.ping as (timeoutMs?: number) => Promise<void>)(this.#options.settings.pingTimeoutMs);
    return true;
  }

  setIdle(conn: MariadbConnection, idle: boolean): void {
    impl(conn).setIdle(idle);
  }

  isAlive(conn: MariadbConnection): boolean {
    return !impl(conn).dead && conn.raw.isValid();
  }

  /**
   * Default: roll back a transaction left open, known from the server's status flags
   * (no round trip when none is open). With `resetConnection`: COM_RESET_CONNECTION,
   * which also clears user variables, temporary tables, prepared statements and session
   * settings. Rejects when the connection cannot be restored, so the pool closes it.
   */
  reset(conn: MariadbConnection): Promise<void> | undefined {
    if (this.#options.settings.resetConnection) return conn.raw.reset();
    // nothing to undo: return synchronously, the pool's check-in stays on its fast path
    if (!conn.inTransaction) return undefined;
    return impl(conn).control('ROLLBACK', ROLLBACK);
  }

  /**
   * Idle: COM_QUIT then the socket closes (graceful, the server logs no aborted client).
   * Commands still pending (a forced close): the socket is destroyed with an error, which
   * makes the connector reject every pending command at once; the connector's `end()`
   * would leave them unsettled forever. Never rejects.
   */
  async close(conn: MariadbConnection): Promise<void> {
    const c = impl(conn);
    const raw = c.raw;
    if (c.dead || !raw.isValid()) return;
    if (c.pending > 0) {
      if (!c.destroySocket(closedWhileBusy())) raw.destroy();
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        raw.end(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, CLOSE_GRACE_MS);
          timer.unref();
        }),
      ]);
    } catch {
      // ending a connection that just died: nothing left to do
    } finally {
      clearTimeout(timer);
    }
    c.destroySocket();
  }

  isDisconnect(error: unknown): boolean {
    return isMariadbDisconnect(error);
  }

  isRetryable(error: unknown): boolean {
    return isMariadbRetryable(error, this.#options.settings.retryLockWaitTimeout);
  }

  async begin(conn: MariadbConnection, options: BeginOptions): Promise<void> {
    const c = impl(conn);
    try {
      await c.control('BEGIN', beginStatements(options));
    } catch (error) {
      // a pipelined SET TRANSACTION may have failed after START TRANSACTION got queued
      if (c.inTransaction && c.raw.isValid()) await c.raw.query('ROLLBACK').catch(() => {});
      throw error;
    }
  }

  commit(conn: MariadbConnection): Promise<void> {
    return impl(conn).control('COMMIT', COMMIT);
  }

  rollback(conn: MariadbConnection): Promise<void> {
    return impl(conn).control('ROLLBACK', ROLLBACK);
  }
}
