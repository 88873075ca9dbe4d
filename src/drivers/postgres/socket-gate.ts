/**
 * The socket factory handed to postgres.js (`options.socket`): it opens the one
 * physical connection of a pooled connection and refuses to open another.
 *
 * postgres.js silently reconnects on the next query after its socket closed (and
 * replays the queries queued at that moment). The pool must own reconnects, so
 * once the first socket has closed every later socket request fails with a
 * `CONNECTION_CLOSED` error: queued queries reject instead of running on a new,
 * unpooled backend. Requests made while the first socket is open are query
 * cancellations (postgres.js opens a short side connection for a CancelRequest)
 * and are allowed.
 *
 * The gate also keeps a permanent 'error' listener on the socket it opened, so a
 * socket error can never surface as an uncaught exception.
 *
 * During the handshake (until `opened()`), the gate keeps postgres.js from
 * rejecting its internal array-types query (`fetch_types`): postgres.js awaits
 * that query in an async function nobody handles, so its rejection would be an
 * unhandled rejection — a process crash — when the socket dies in that window.
 * So while handshaking, socket errors are recorded here instead of being emitted
 * to postgres.js, the 'close' that follows reaches it as a close "with an error"
 * (so postgres.js 3 leaves the queries it has sent pending instead of rejecting
 * them: a FATAL handled while no query was active clears postgres.js's `initial`
 * state, and then a plain close would reject the array-types query — test/integration/postgres-handshake-faults.test.ts),
 * and a reconnect attempt is left pending forever instead of failing; the
 * connection's own handshake fails the connect. The abandoned postgres.js instance then holds no socket and no
 * timer and is garbage collected.
 */
import net from 'node:net';
import tls from 'node:tls';
import { describeTlsError, type TlsPlan } from '../tls-plan.js';
import type { ParsedSocketOptions } from './postgres-js.js';
import type { TransactionStatus } from './transaction-status.js';

const ignore = (): void => {};

export interface ConnectionClosedError extends Error {
  code: 'CONNECTION_CLOSED';
}

export function connectionClosedError(message: string, cause?: unknown): ConnectionClosedError {
  const error = new Error(message, cause === undefined ? undefined : { cause }) as ConnectionClosedError;
  error.code = 'CONNECTION_CLOSED';
  return error;
}

export class SocketGate {
  /** The physical connection, once opened. */
  socket: net.Socket | undefined;
  /** The first error the socket reported (ECONNRESET, ...), if any. */
  error: unknown;
  /**
   * Read with `onread` into one reused buffer and hand each chunk to `socket.ondata`
   * (postgres.js 4's "shared" socket protocol, what its own sockets do): no stream
   * machinery, no Buffer per chunk. Only for postgres.js 4 on a plain socket; 3.x reads
   * 'data' events, and a TLS upgrade needs a stream.
   */
  shared = false;
  #refused = false;
  #handshaking = true;
  /** `host:port` of the socket in use. */
  #where = '';
  #pending: ((error: unknown) => void) | undefined;
  readonly #status: TransactionStatus | undefined;
  readonly #describe: string;
  readonly #onClose: () => void;

  readonly #tls: TlsPlan | undefined;

  constructor(describe: string, status: TransactionStatus | undefined, onClose: () => void, tls?: TlsPlan) {
    this.#describe = describe;
    this.#status = status;
    this.#onClose = onClose;
    this.#tls = tls;
  }

  /** True once the socket is gone (or never came): no socket will be opened again. */
  get closed(): boolean {
    return this.#refused;
  }

  /** The handshake is over: from now on errors reach postgres.js and reconnects fail at once. */
  opened(): void {
    this.#handshaking = false;
  }

  /**
   * How many sockets the handshake may open in all: one per host of a multi-host URL (twice
   * for `prefer-standby`, which postgres.js 4 walks in two passes). Set by the connection.
   */
  maxWalk = 1;
  /** Sockets the handshake opened (or tried to), and what became of each: `host:port: reason`. */
  readonly tried: string[] = [];
  #walked = 0;

  /** The `options.socket` function for postgres.js. */
  readonly factory = (options: ParsedSocketOptions, host?: string, port?: number): Promise<net.Socket> => {
    if (this.#refused || (this.socket !== undefined && this.socket.destroyed)) {
      this.#refused = true;
      if (this.#handshaking) return new Promise<net.Socket>(() => {});
      return Promise.reject(
        connectionClosedError(
          `the connection to ${this.#describe} was closed; cistern does not let postgres.js reconnect it (the pool opens a new one)`,
          this.error,
        ),
      );
    }
    if (this.socket !== undefined) return side(options, host, port); // a CancelRequest while open
    if (this.#walked >= this.maxWalk) return new Promise<net.Socket>(() => {}); // the connect fails on its own
    // postgres.js 4 names the host of each attempt; 3.x does not: walk its list from where we are
    const targets =
      host !== undefined || port !== undefined
        ? [{ host, port }]
        : targetsFrom(options, this.#walked, this.maxWalk - this.#walked);
    return this.#connectAny(options, targets);
  };

  /** Open the first of `targets` that accepts a TCP connection; each failure is recorded in `tried`. */
  async #connectAny(
    options: ParsedSocketOptions,
    targets: Array<{ host: string | undefined; port: number | undefined }>,
  ): Promise<net.Socket> {
    let last: unknown;
    for (const target of targets) {
      if (this.#refused) break;
      this.#walked++;
      this.error = undefined;
      const socket = open(options, target.host, target.port, this.shared ? this.#onRead : undefined);
      // a plain socket gets its last own property (`emit`) now, before Node reads its
      // `_handle` again: Node's accessors then see it with one map from here on (see #watch)
      if (this.#tls === undefined) this.#watch(socket);
      const where = describeTarget(options, target.host, target.port);
      socket.on('error', this.#onError);
      try {
        await new Promise<void>((resolve, reject) => {
          const fail = (error: unknown): void => {
            socket.off('connect', done);
            this.#pending = undefined;
            socket.destroy();
            reject(error);
          };
          const done = (): void => {
            socket.off('error', fail);
            this.#pending = undefined;
            resolve();
          };
          this.#pending = fail;
          socket.once('connect', done);
          socket.once('error', fail);
        });
      } catch (error) {
        this.tried.push(`${where}: ${reason(error)}`);
        last = error;
        continue;
      }
      let main: net.Socket = socket;
      if (this.#tls !== undefined) {
        try {
          main = await negotiate(socket, this.#tls, target.host ?? options.host[0]);
        } catch (error) {
          socket.destroy();
          this.tried.push(`${where}: ${reason(error)}`);
          last = error;
          continue;
        }
        main.on('error', this.#onError);
        Object.assign(main, {
          host: (socket as { host?: unknown }).host,
          port: (socket as { port?: unknown }).port,
        });
        this.#watch(main);
      }
      this.#status?.restart();
      this.socket = main;
      this.#where = where;
      main.once('close', () => this.#onSocketClose(main));
      return main;
    }
    const error = last ?? connectionClosedError(`the connection to ${this.#describe} was closed`);
    if (this.#handshaking && !this.#refused && this.#walked >= this.maxWalk) {
      // no host left: fail the connect now (postgres.js 3 would wait for a host that never comes)
      this.error = error;
      this.#refused = true;
      this.#onClose();
    }
    throw error;
  }

  /** Give up on the connection: refuse any further socket, abort a pending connect, destroy the socket. */
  destroy(reason?: unknown): void {
    this.#refused = true;
    this.#pending?.(reason ?? connectionClosedError(`the connection to ${this.#describe} was closed`));
    if (this.socket !== undefined && !this.socket.destroyed) this.socket.destroy();
  }

  /** `onread` of a shared socket: the bytes go to the transaction status, then to postgres.js 4. */
  readonly #onRead = (n: number, buffer: Uint8Array): boolean => {
    this.#status?.onRead(buffer, n);
    (this.socket as SharedSocket).ondata((buffer as Buffer).subarray(0, n));
    return true;
  };

  /**
   * Sees every event of the socket before its listeners do, through one wrapper of
   * `emit` (cheaper than a second 'data' listener, which makes Node copy the
   * listener array on every chunk): feeds received bytes to the transaction status
   * and, while handshaking, keeps 'error' from postgres.js (see above).
   *
   * Installed on a plain socket right after `net.connect`, with the socket's other own
   * properties (`open`), not after it connected: every own property added to a socket
   * is a new map, and Node's `_handle` getter, shared by every read and write of every
   * socket, had seen five maps of cistern's sockets (in `net.connect`, then each
   * property added one by one), went megamorphic, and cost a query ~220 instructions in
   * `writeOrBuffer` and more in `onStreamRead` (callgrind, `drv` against `free` at 10 callers).
   */
  #watch(socket: net.Socket): void {
    const emit = socket.emit as (this: net.Socket, event: string | symbol, ...args: unknown[]) => boolean;
    const gate = this;
    const onData = this.#status?.onData;
    let connected = !socket.connecting;
    if (!connected) {
      socket.once('connect', () => {
        connected = true;
      });
    }
    socket.emit = function watchedEmit(this: net.Socket, event: string | symbol, arg?: unknown): boolean {
      if (event === 'data') {
        onData?.(arg as Buffer);
      } else if (gate.#handshaking) {
        if (event === 'error' && connected) {
          gate.#onError(arg);
          return true;
        }
        // postgres.js 3 rejects the queries it has sent when a socket closes without an error;
        // one of them may be its own array-types query, awaited by nobody (postgres-handshake-faults.test.ts). Told the
        // close had an error (the error itself was kept here), it leaves them pending, and they
        // are collected with the abandoned instance. 4.x reads no argument of 'close'.
        if (event === 'close') return emit.call(this, event, true);
      }
      // biome-ignore lint/complexity/noArguments: forwards any extra event arguments without a rest array per call
      return arguments.length <= 2 ? emit.call(this, event, arg) : emit.apply(this, arguments as never);
    } as typeof socket.emit;
  }

  readonly #onError = (error: unknown): void => {
    if (this.error === undefined) this.error = error;
  };

  #onSocketClose(socket: net.Socket): void {
    if (socket !== this.socket) return;
    if (this.#handshaking) {
      this.tried.push(`${this.#where}: ${this.error === undefined ? 'closed' : reason(this.error)}`);
      if (this.#walked < this.maxWalk && !this.#refused) {
        // postgres.js goes on to the next host (a dead one, or one that does not fit
        // target_session_attrs): let it, while the connection is still being opened
        this.socket = undefined;
        return;
      }
    }
    this.#refused = true;
    this.#onClose();
  }
}

const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 4, 210, 22, 47]);

/** SSLRequest, then TLS over the socket ('S'), or plain text when the server says 'N' and the mode allows it. */
async function negotiate(socket: net.Socket, plan: TlsPlan, host: string | undefined): Promise<net.Socket> {
  const answer = await new Promise<number>((resolve, reject) => {
    const onData = (data: Buffer): void => {
      socket.off('error', reject);
      socket.off('close', onClose);
      resolve(data[0]!);
    };
    const onClose = (): void =>
      reject(connectionClosedError('the server closed the connection during the SSLRequest'));
    socket.once('data', onData);
    socket.once('error', reject);
    socket.once('close', onClose);
    socket.write(SSL_REQUEST);
  });
  socket.pause();
  if (answer !== 83) {
    if (plan.mode === 'prefer' || plan.mode === 'allow') return socket;
    const error = new Error(
      `TLS: the server does not accept TLS connections (sslmode ${plan.mode})`,
    ) as Error & {
      code: string;
    };
    error.code = 'SSL_NOT_SUPPORTED';
    throw error;
  }
  const servername = host !== undefined && net.isIP(host) === 0 ? host : undefined;
  // `host` is what verify-full checks the certificate against (IP SANs for an address)
  const secure = tls.connect({
    socket,
    ...(host !== undefined ? { host } : {}),
    ...(servername ? { servername } : {}),
    ...plan.options,
  });
  await new Promise<void>((resolve, reject) => {
    secure.once('secureConnect', () => {
      secure.off('error', onError);
      resolve();
    });
    const onError = (error: unknown): void => {
      secure.destroy();
      const wrapped = new Error(describeTlsError(error, host), { cause: error }) as Error & {
        code?: unknown;
      };
      wrapped.code = (error as { code?: unknown }).code;
      reject(wrapped);
    };
    secure.once('error', onError);
  });
  return secure;
}

/** A short side connection while the main one is open (postgres.js's CancelRequest). */
function side(options: ParsedSocketOptions, host?: string, port?: number): Promise<net.Socket> {
  const socket = open(options, host, port);
  socket.on('error', ignore);
  return new Promise<net.Socket>((resolve, reject) => {
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** postgres.js 3's hosts from attempt `from` on, at most `count` of them. */
function targetsFrom(
  options: ParsedSocketOptions,
  from: number,
  count: number,
): Array<{ host: string | undefined; port: number | undefined }> {
  if (typeof options.path === 'string' && options.path !== '') return [{ host: undefined, port: undefined }];
  const n = Math.max(1, options.host.length);
  return Array.from({ length: Math.min(n, count) }, (_, i) => {
    const k = (from + i) % n;
    return { host: options.host[k], port: options.port[k] ?? options.port[0] };
  });
}

function describeTarget(options: ParsedSocketOptions, host?: string, port?: number): string {
  if (typeof options.path === 'string' && options.path !== '') return options.path;
  const h = host ?? options.host[0] ?? 'localhost';
  return `${h.includes(':') ? `[${h}]` : h}:${port ?? options.port[0] ?? 5432}`;
}

function reason(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
}

/** A socket in postgres.js 4's shared-buffer protocol: it calls `ondata` (set by postgres.js) per chunk. */
interface SharedSocket extends net.Socket {
  shared: boolean;
  ondata: (chunk: Buffer) => void;
}

/** Size of the one read buffer of a shared socket (postgres.js 4 uses the same). */
const READ_BUFFER = 65536;

/** postgres.js 4 passes the host and port of this attempt; 3.x only its options. */
function open(
  options: ParsedSocketOptions,
  givenHost?: string,
  givenPort?: number,
  onRead?: (n: number, buffer: Uint8Array) => boolean,
): net.Socket {
  const host = givenHost ?? options.host[0] ?? 'localhost';
  const port = givenPort ?? options.port[0] ?? 5432;
  const onread =
    onRead === undefined ? undefined : { buffer: Buffer.allocUnsafe(READ_BUFFER), callback: onRead };
  const socket =
    typeof options.path === 'string' && options.path !== ''
      ? net.connect({ path: options.path, ...(onread ? { onread } : {}) })
      : net.connect({ host, port, noDelay: true, ...(onread ? { onread } : {}) });
  if (onread !== undefined) {
    (socket as SharedSocket).shared = true;
    (socket as SharedSocket).ondata = ignore;
  }
  // postgres.js reads these for its error messages and TLS servername.
  Object.assign(socket, { host, port });
  return socket;
}
