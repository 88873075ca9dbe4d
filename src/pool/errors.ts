/**
 * Errors you can branch on: one base class, a stable `code`, a `name`, a `cause`,
 * and a `Symbol.for` brand so `isPoolError` works across two installed copies.
 */

import type { DriverTarget } from './driver.js';

const BRAND = Symbol.for('cistern.PoolError');

export type PoolErrorCode =
  | 'POOL_TIMEOUT'
  | 'POOL_CLOSED'
  | 'POOL_QUEUE_FULL'
  | 'POOL_MISUSE'
  | 'POOL_CONFIG'
  | 'CONNECT_FAILED';

export class PoolError extends Error {
  readonly code: PoolErrorCode;

  constructor(code: PoolErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = 'PoolError';
  }

  get [BRAND](): true {
    return true;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this === PoolError) return isPoolError(value);
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }
}

/** True for any cistern error, even one thrown by another installed copy of cistern. */
export function isPoolError(value: unknown): value is PoolError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/** `acquire` waited longer than `acquireTimeoutMs` (or the call's `timeoutMs`). `cause` is the last connect error, if any. */
export class PoolTimeoutError extends PoolError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('POOL_TIMEOUT', message, options);
    this.name = 'PoolTimeoutError';
  }
}

/** The pool is closing or closed. */
export class PoolClosedError extends PoolError {
  constructor(message = 'the pool is closed: no connection can be acquired after close()') {
    super('POOL_CLOSED', message);
    this.name = 'PoolClosedError';
  }
}

/** `maxWaiting` callers are already waiting. */
export class PoolQueueFullError extends PoolError {
  constructor(message: string) {
    super('POOL_QUEUE_FULL', message);
    this.name = 'PoolQueueFullError';
  }
}

/** The pool was used wrongly: a double release, a connection of another pool, ... The pool itself is left intact. */
export class PoolMisuseError extends PoolError {
  constructor(message: string) {
    super('POOL_MISUSE', message);
    this.name = 'PoolMisuseError';
  }
}

/** An option is invalid or unknown. The message names the option, the value and what is allowed. */
export class PoolConfigError extends PoolError {
  readonly option: string;
  constructor(option: string, message: string) {
    super('POOL_CONFIG', message);
    this.name = 'PoolConfigError';
    this.option = option;
  }
}

/** Opening a connection failed. The message names the target with any password masked; `cause` is the driver's error. */
export class ConnectError extends PoolError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONNECT_FAILED', message, options);
    this.name = 'ConnectError';
  }
}

/** The reason an aborted acquire rejects with when the signal carries none. */
export function abortReason(signal: AbortSignal): unknown {
  if (signal.reason !== undefined) return signal.reason;
  const error = new Error('the acquire was aborted');
  error.name = 'AbortError';
  return error;
}

/**
 * Mask the password of a URL-ish string: `postgres://user:secret@host/db` -> `postgres://user:***@host/db`,
 * also of every URL inside a longer message (a driver error that quotes its URL).
 */
export function maskUrl(url: string): string {
  return url
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@?#\s]*):[^@/?#]*@/gi, '$1:***@')
    .replace(/([?&](?:password|pass|pwd)=)[^&#]*/gi, '$1***');
}

/** The message of an error, or the thrown value as text. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** What a pool connects to, for messages: `postgresql at host:port/db`, or the pool's name. */
export function targetText(target: DriverTarget, poolName: string): string {
  if (target.host === undefined) return `pool '${poolName}'`;
  const port = target.port === undefined ? '' : `:${target.port}`;
  return `${target.system} at ${target.host}${port}${target.database ? `/${target.database}` : ''}`;
}

/** A failed connect as a `ConnectError` (a cistern error passes as it is); any password in the text masked. */
export function connectError(raw: unknown, target: DriverTarget, poolName: string): PoolError {
  if (isPoolError(raw)) return raw;
  return new ConnectError(
    `could not connect to ${targetText(target, poolName)}: ${maskUrl(errorMessage(raw))}`,
    {
      cause: raw,
    },
  );
}

/** A hand-back of a connection that is not checked out (`release`, `invalidate`). */
export function misuseError(
  method: string,
  poolName: string,
  connectionId: number | undefined,
): PoolMisuseError {
  if (connectionId === undefined) {
    return new PoolMisuseError(
      `${method}(): this connection is not checked out from pool '${poolName}' ` +
        '(it belongs to another pool, was already closed, or was released twice)',
    );
  }
  return new PoolMisuseError(
    `${method}(): connection ${connectionId} of pool '${poolName}' is not checked out (was it released twice?)`,
  );
}

/** What a caller that waited `timeoutMs` in vain is told; `cause` is the last connect error. */
export function waitTimeoutError(
  poolName: string,
  timeoutMs: number,
  counts: { size: number; max: number; used: number; waiting: number },
  lastConnectError: unknown,
): PoolTimeoutError {
  return new PoolTimeoutError(
    `timed out after ${timeoutMs} ms waiting for a connection from pool '${poolName}' ` +
      `(size ${counts.size}, max ${counts.max}, in use ${counts.used}, waiting ${counts.waiting})` +
      (lastConnectError === undefined ? '' : `; last connect error: ${errorMessage(lastConnectError)}`),
    lastConnectError === undefined ? undefined : { cause: lastConnectError },
  );
}

/** The stack of the caller of `acquire`, for leak reports (`leakTimeoutMs`). */
export function captureStack(): string {
  const holder: { stack?: string } = {};
  Error.captureStackTrace(holder, captureStack);
  // the header is 'Error' or, under a custom prepareStackTrace (source-map-support, vitest), 'Error: '
  return (holder.stack ?? '').replace(/^Error[^\n]*\n/, 'acquired at:\n');
}
