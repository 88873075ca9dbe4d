/**
 * An in-process fake driver for the pool core's unit tests only (never a stand-in
 * for PostgreSQL or MariaDB). Every behaviour is switchable per test.
 */
import type { BeginOptions, ConnectContext, Driver } from '../../src/pool/driver.js';

export class FakeConnection {
  closed = false;
  dead = false;
  pings = 0;
  resets = 0;
  log: string[] = [];
  onDead: ((error?: unknown) => void) | undefined;
  constructor(readonly id: number) {}
  /** Simulate the server dropping the socket. */
  kill(): void {
    this.dead = true;
    this.onDead?.(new Error(`fake connection ${this.id} was killed`));
  }
}

export class DisconnectError extends Error {
  readonly disconnect = true;
}

export class RetryableError extends Error {
  readonly retryable = true;
}

export interface FakeDriverControls {
  /** Milliseconds each connect takes (uses setTimeout, so fake timers drive it); 0 = next microtask. */
  connectDelayMs: number;
  /** When set, connects reject with this (a function may decide per attempt). */
  connectError: unknown | ((attempt: number) => unknown);
  /** Make connects never settle (until the signal aborts). */
  connectHang: boolean;
  /** ping resolves false / rejects / hangs. */
  pingResult: 'ok' | 'false' | 'reject' | 'hang';
  /** reset rejects. */
  resetError: unknown;
  /** reset runs asynchronously (returns a promise) instead of synchronously. */
  resetAsync: boolean;
  /** Close rejects (the pool must not care). */
  closeError: unknown;
  /** Milliseconds each close takes (setTimeout); the connection stays in `open` (the server still sees it) meanwhile. */
  closeDelayMs: number;
  /** Make closes never settle; the connection stays in `open` for ever. */
  closeHang: boolean;
}

export class FakeDriver implements Driver<FakeConnection> {
  readonly name = 'fake';
  readonly target = { system: 'fake', host: 'fake-host', port: 1, database: 'db' };
  readonly controls: FakeDriverControls = {
    connectDelayMs: 0,
    connectError: undefined,
    connectHang: false,
    pingResult: 'ok',
    resetError: undefined,
    resetAsync: false,
    closeError: undefined,
    closeDelayMs: 0,
    closeHang: false,
  };
  connects = 0;
  connectAttempts = 0;
  readonly open = new Set<FakeConnection>();
  readonly all: FakeConnection[] = [];
  readonly contexts: ConnectContext[] = [];
  maxOpen = 0;
  #nextId = 0;

  constructor(controls: Partial<FakeDriverControls> = {}) {
    Object.assign(this.controls, controls);
  }

  connect(ctx: ConnectContext): Promise<FakeConnection> {
    this.connectAttempts++;
    this.contexts.push(ctx);
    const attempt = this.connectAttempts;
    return new Promise((resolve, reject) => {
      const finish = () => {
        // the pool gave up on this connect: no connection is made
        if (ctx.signal.aborted) return;
        const e = this.controls.connectError;
        const error = typeof e === 'function' ? (e as (n: number) => unknown)(attempt) : e;
        if (error !== undefined) return reject(error);
        const conn = new FakeConnection(++this.#nextId);
        conn.onDead = ctx.onDead;
        this.connects++;
        this.open.add(conn);
        this.all.push(conn);
        this.maxOpen = Math.max(this.maxOpen, this.open.size);
        resolve(conn);
      };
      ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
      if (this.controls.connectHang) return;
      if (this.controls.connectDelayMs > 0) setTimeout(finish, this.controls.connectDelayMs);
      else queueMicrotask(finish);
    });
  }

  ping(conn: FakeConnection): Promise<boolean> {
    conn.pings++;
    if (conn.dead) return Promise.reject(new DisconnectError('ping on a dead connection'));
    switch (this.controls.pingResult) {
      case 'false':
        return Promise.resolve(false);
      case 'reject':
        return Promise.reject(new DisconnectError('ping failed'));
      case 'hang':
        return new Promise(() => {});
      default:
        return Promise.resolve(true);
    }
  }

  reset(conn: FakeConnection): Promise<void> | void {
    conn.resets++;
    if (this.controls.resetError !== undefined) {
      if (this.controls.resetAsync) return Promise.reject(this.controls.resetError);
      throw this.controls.resetError;
    }
    if (this.controls.resetAsync) return Promise.resolve();
  }

  async close(conn: FakeConnection): Promise<void> {
    conn.closed = true;
    if (this.controls.closeHang) return new Promise<void>(() => {});
    if (this.controls.closeDelayMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, this.controls.closeDelayMs));
    }
    this.open.delete(conn);
    if (this.controls.closeError !== undefined) throw this.controls.closeError;
  }

  isAlive(conn: FakeConnection): boolean {
    return !conn.dead;
  }

  isDisconnect(error: unknown): boolean {
    return error instanceof DisconnectError;
  }

  isRetryable(error: unknown): boolean {
    return error instanceof RetryableError;
  }

  async begin(conn: FakeConnection, options: BeginOptions): Promise<void> {
    if (conn.dead) throw new DisconnectError('begin on a dead connection');
    conn.log.push(
      `BEGIN${options.isolation ? ` ${options.isolation}` : ''}${options.readOnly ? ' READ ONLY' : ''}`,
    );
  }

  async commit(conn: FakeConnection): Promise<void> {
    if (conn.dead) throw new DisconnectError('commit on a dead connection');
    conn.log.push('COMMIT');
  }

  async rollback(conn: FakeConnection): Promise<void> {
    if (conn.dead) throw new DisconnectError('rollback on a dead connection');
    conn.log.push('ROLLBACK');
  }
}
