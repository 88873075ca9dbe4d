/**
 * Errors you can branch on: one base class, a stable `code`, a `name`, a `cause`,
 * and a `Symbol.for` brand so `isPoolError` works across two installed copies.
 */

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
