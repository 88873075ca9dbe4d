/**
 * The handshake of `PlainMariadbConnection.open` (mariadb-connection.ts): open exactly
 * one physical connection with `mariadb.createConnection` (never a connector pool),
 * within the pool's connect timeout and abortable.
 *
 * The connector's `connectTimeout` defaults to 1 s; it is set from the pool's
 * `connectTimeoutMs` instead. The promise API gives no handle on the connection
 * before the handshake ends, so the socket is created here (the connector's
 * `stream` option) and destroyed on abort, which makes the connector reject at once.
 */
import net from 'node:net';
import { type Connection, createConnection } from 'mariadb';
import { ConnectError } from '../../pool/errors.js';
import { type PasswordSource, resolvePassword } from '../resolve-password.js';

export interface OpenOptions {
  /** Connector configuration (already carries `logParam: false`). */
  config: Record<string, unknown>;
  /** The target as a URL without password, for messages. */
  display: string;
  timeoutMs: number;
  signal: AbortSignal;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

function connectError(display: string, what: string, cause: unknown): ConnectError {
  return new ConnectError(`cannot connect to ${display}: ${what}`, { cause });
}

export interface Opened {
  raw: Connection;
  /** The TCP / unix socket under the connector when we created it and it carries no TLS. */
  socket: net.Socket | undefined;
}

export function openConnection({ config, display, timeoutMs, signal }: OpenOptions): Promise<Opened> {
  if (signal.aborted) {
    return Promise.reject(connectError(display, `aborted (${messageOf(signal.reason)})`, signal.reason));
  }
  let socket: net.Socket | undefined;
  const options: Record<string, unknown> = { ...config };
  // own spread does not copy the non-enumerable password
  if (config.password !== undefined && typeof config.password !== 'function') {
    Object.defineProperty(options, 'password', { value: config.password, enumerable: false });
  }
  options.connectTimeout = Number.isFinite(timeoutMs) && timeoutMs > 0 ? Math.ceil(timeoutMs) : 0;
  if (options.stream === undefined) {
    const host = typeof config.host === 'string' ? config.host : 'localhost';
    const port = config.port === undefined ? 3306 : Number(config.port);
    const socketPath = typeof config.socketPath === 'string' ? config.socketPath : undefined;
    // also used by the connector for its KILL side connection in destroy(): keep it generic
    options.stream = () => {
      const s = socketPath === undefined ? net.connect(port, host) : net.connect(socketPath);
      if (socketPath === undefined) s.setNoDelay(true);
      socket = s;
      return s;
    };
    delete options.socketPath;
  }

  // a password function: called for this connection, before the connector sees the options
  const password = resolvePassword(config.password as PasswordSource | undefined, { signal, timeoutMs });
  if (typeof password === 'object') {
    const started = performance.now();
    return password.then(
      (resolved) => {
        Object.defineProperty(options, 'password', { value: resolved, enumerable: false });
        const left = Number.isFinite(timeoutMs)
          ? Math.max(1, timeoutMs - (performance.now() - started))
          : timeoutMs;
        if (Number.isFinite(timeoutMs) && timeoutMs > 0) options.connectTimeout = Math.ceil(left);
        return create(options, display, signal, config, () => socket);
      },
      (error: unknown) => {
        throw connectError(display, messageOf(error), error);
      },
    );
  }
  return create(options, display, signal, config, () => socket);
}

function create(
  options: Record<string, unknown>,
  display: string,
  signal: AbortSignal,
  config: Record<string, unknown>,
  socketOf: () => net.Socket | undefined,
): Promise<Opened> {
  return new Promise<Opened>((resolve, reject) => {
    let settled = false;
    const onAbort = () => {
      if (settled) return;
      settled = true;
      // an error (not a bare destroy) so the connector's handshake fails now and releases everything
      socketOf()?.destroy(new Error('connect aborted by the pool'));
      reject(connectError(display, `aborted (${messageOf(signal.reason)})`, signal.reason));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    createConnection(options as never).then(
      (raw) => {
        signal.removeEventListener('abort', onAbort);
        if (settled) {
          raw.on('error', noop);
          raw.destroy();
          return;
        }
        settled = true;
        resolve({ raw, socket: config.ssl ? undefined : socketOf() });
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        if (settled) return;
        settled = true;
        reject(connectError(display, messageOf(error), error));
      },
    );
  });
}

function noop(): void {}
